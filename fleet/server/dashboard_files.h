// The dashboard's files (fleet/web/), compiled into the server by cmake/embed_files.cmake so
// that one binary serves the API and the page, with nothing to install beside it.
#pragma once

#include <string_view>
#include <vector>

namespace outpost::fleet {

struct EmbeddedFile {
  const char* name;          // "index.html"
  const char* content_type;  // "text/html; charset=utf-8"
  std::string_view bytes;
};

const std::vector<EmbeddedFile>& DashboardFiles();

}  // namespace outpost::fleet
