#include "fleet/server/api_error.h"

#include <cstdio>

namespace outpost::fleet {

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  // Invalid UTF-8 (a message quoting a client's bytes) is replaced, never a throw here.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, nlohmann::json{{"error", message}});
}

void LogStoreFailure(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fleet server: storage failure while %s: %s\n", what, detail.c_str());
}

}  // namespace outpost::fleet
