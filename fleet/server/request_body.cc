#include "fleet/server/request_body.h"

#include "fleet/server/api_error.h"

namespace outpost::fleet {

void DrainSmallExcess(const httplib::ContentReader& reader, int64_t content_length) {
  if (content_length > (int64_t{64} << 20)) return;
  reader([](const char*, size_t) { return true; });
}

std::string ReadBody(const httplib::Request& req, const httplib::ContentReader& reader, int64_t max_bytes) {
  const std::string too_large = "request body larger than " + std::to_string(max_bytes) + " bytes";
  if (req.has_header("Content-Length")) {
    const std::string value = req.get_header_value("Content-Length");
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
      throw ApiError(400, "malformed Content-Length");
    if (value.size() > 18 || std::stoll(value) > max_bytes) {
      if (value.size() <= 18) DrainSmallExcess(reader, std::stoll(value));
      throw ApiError(413, too_large);
    }
  }
  std::string body;
  bool over = false;
  reader([&](const char* data, size_t n) {
    if (static_cast<int64_t>(body.size() + n) > max_bytes) {
      over = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (over) throw ApiError(413, too_large);
  return body;
}

}  // namespace outpost::fleet
