// Bracket depth of JSON text, checked before parsing. nlohmann::json parses deep input
// iteratively, but dumping, copying and comparing a parsed value recurse: a hostile document
// nested tens of thousands of levels deep must be refused before it becomes a value.
#pragma once

#include <string_view>

namespace outpost {

// Whether no array or object in `text` is nested deeper than `max_depth` (brackets inside
// strings do not count). Malformed text is left for the parser to refuse.
inline bool JsonNestingWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

}  // namespace outpost
