#include "common/json/strict_json.h"

#include <algorithm>
#include <cmath>

#include "common/json_nesting.h"

namespace outpost {

namespace {

constexpr size_t kShownBytes = 60;

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence (messages are sent as
// JSON, whose writer refuses invalid UTF-8).
std::string Cut(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) --end;
  s.resize(end);
  return s + "...";
}

// Shortest readable form of a bound (600 rather than 600.000000).
std::string ShowBound(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return nlohmann::json(v).dump();
}

std::string RangeProblem(const std::string& lo, const std::string& hi, bool has_lo, bool has_hi) {
  if (has_lo && has_hi) return "must be in " + lo + ".." + hi;
  if (has_lo) return "must be at least " + lo;
  if (has_hi) return "must be at most " + hi;
  return "is out of range";
}


}  // namespace

nlohmann::json ParseJsonText(std::string_view text, std::string_view where) {
  if (!JsonNestingWithin(text, kMaxJsonDepth))
    throw Error(std::string(where) + ": not valid JSON (nested deeper than " + std::to_string(kMaxJsonDepth) +
                " levels)");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // Only the position: nlohmann's message quotes the input, which may be long or not UTF-8.
    throw Error(std::string(where) + ": not valid JSON (syntax error at byte " + std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::out_of_range&) {
    throw Error(std::string(where) + ": not valid JSON (a number too large for a double)");
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string(where) + ": not valid JSON");
  }
}

nlohmann::json ParseJsonObject(std::string_view text, std::string_view where) {
  if (text.empty()) return nlohmann::json::object();
  nlohmann::json j = ParseJsonText(text, where);
  if (!j.is_object()) throw Error(std::string(where) + ": expected a JSON object, got " + ShowJson(j));
  return j;
}

std::string ShowJson(const nlohmann::json& value) {
  return Cut(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kShownBytes);
}

std::string ShowString(std::string_view text) { return ShowJson(nlohmann::json(std::string(text))); }

JsonFields::JsonFields(const nlohmann::json& object, std::string_view where,
                       std::initializer_list<std::string_view> allowed)
    : object_(object), where_(where) {
  if (!object_.is_object()) FailObject("expected a JSON object, got " + ShowJson(object_));
  for (const auto& [key, value] : object_.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    FailObject("unknown field '" + Cut(key, kShownBytes) + "' (allowed: " + list + ")");
  }
}

void JsonFields::FailObject(const std::string& problem) const { throw Error(where_ + ": " + problem); }

void JsonFields::Fail(const char* key, const std::string& problem) const {
  throw Error(where_ + ": '" + key + "' " + problem);
}

void JsonFields::FailValue(const char* key, const std::string& problem, const nlohmann::json& value) const {
  Fail(key, problem + ", got " + ShowJson(value));
}

const nlohmann::json& JsonFields::Required(const char* key) const {
  const auto it = object_.find(key);
  if (it == object_.end()) Fail(key, "is required");
  return *it;
}

std::string JsonFields::String(const char* key) const {
  const nlohmann::json& v = Required(key);
  if (!v.is_string()) FailValue(key, "must be a string", v);
  return v.get<std::string>();
}

std::optional<std::string> JsonFields::OptString(const char* key) const {
  if (!has(key)) return std::nullopt;
  return String(key);
}

int64_t JsonFields::IntValue(const char* key, const nlohmann::json& v, int64_t lo, int64_t hi) const {
  const std::string range =
      RangeProblem(std::to_string(lo), std::to_string(hi), lo != kIntMin, hi != kIntMax);
  int64_t i = 0;
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(kIntMax)) FailValue(key, range, v);
    i = static_cast<int64_t>(v.get<uint64_t>());
  } else if (v.is_number_integer()) {
    i = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) FailValue(key, "must be a whole number", v);
    // [-2^63, 2^63): the doubles that convert to int64_t exactly.
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) FailValue(key, range, v);
    i = static_cast<int64_t>(d);
  } else {
    FailValue(key, "must be a whole number", v);
  }
  if (i < lo || i > hi) FailValue(key, range, v);
  return i;
}

int64_t JsonFields::Int(const char* key, int64_t lo, int64_t hi) const {
  return IntValue(key, Required(key), lo, hi);
}

std::optional<int64_t> JsonFields::OptInt(const char* key, int64_t lo, int64_t hi) const {
  if (!has(key)) return std::nullopt;
  return IntValue(key, object_.at(key), lo, hi);
}

double JsonFields::NumberValue(const char* key, const nlohmann::json& v, double lo, double hi) const {
  if (!v.is_number()) FailValue(key, "must be a number", v);
  const double d = v.get<double>();
  if (!std::isfinite(d)) FailValue(key, "must be a finite number", v);
  if (d < lo || d > hi)
    FailValue(key, RangeProblem(ShowBound(lo), ShowBound(hi), std::isfinite(lo), std::isfinite(hi)), v);
  return d;
}

double JsonFields::Number(const char* key, double lo, double hi) const {
  return NumberValue(key, Required(key), lo, hi);
}

std::optional<double> JsonFields::OptNumber(const char* key, double lo, double hi) const {
  const auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return std::nullopt;
  return NumberValue(key, *it, lo, hi);
}

std::vector<std::string> JsonFields::StringsValue(const char* key, const nlohmann::json& v) const {
  if (!v.is_array()) FailValue(key, "must be an array of strings", v);
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const nlohmann::json& e : v) {
    if (!e.is_string()) FailValue(key, "must be an array of strings", e);
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<std::string> JsonFields::Strings(const char* key) const { return StringsValue(key, Required(key)); }

std::optional<std::vector<std::string>> JsonFields::OptStrings(const char* key) const {
  if (!has(key)) return std::nullopt;
  return StringsValue(key, object_.at(key));
}

const nlohmann::json& JsonFields::Array(const char* key) const {
  const nlohmann::json& v = Required(key);
  if (!v.is_array()) FailValue(key, "must be an array", v);
  return v;
}

const nlohmann::json* JsonFields::OptObject(const char* key) const {
  const auto it = object_.find(key);
  if (it == object_.end()) return nullptr;
  if (!it->is_object()) FailValue(key, "must be an object", *it);
  return &*it;
}

}  // namespace outpost
