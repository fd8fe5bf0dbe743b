// Errors of the HTTP API: every failure is an HTTP status and one message, sent as
// {"error": "..."}. Handlers throw ApiError; the wrapper in fleet_server.cc turns it (and any
// other exception, as a 500) into the JSON reply, so a handler's happy path reads straight.
#pragma once

#include <httplib.h>

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "common/expected.h"

namespace outpost::fleet {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

void SendJson(httplib::Response& res, int status, const nlohmann::json& body);
void SendError(httplib::Response& res, int status, const std::string& message);

// The value of a parse of client input (api_input.h), or a 400 with its message.
template <typename T>
T InputValue(Expected<T> result) {
  if (!result.ok()) throw ApiError(400, result.message());
  return std::move(result).value();
}

void LogStoreFailure(const char* what, const std::string& detail);

// The value of a store call, or a 500 naming what failed (the store's message is for the log,
// not for the client: it may name tables or SQL).
template <typename T>
T StoreValue(Expected<T> result, const char* what) {
  if (!result.ok()) {
    LogStoreFailure(what, result.message());
    throw ApiError(500, std::string("storage failure while ") + what);
  }
  return std::move(result).value();
}

}  // namespace outpost::fleet
