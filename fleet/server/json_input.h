// Strict reading of JSON request bodies: the body must be one object within the size limit,
// every field must be one the endpoint knows, and each has one type. Anything else is a 400
// (413 for size) raised as ApiError before any state is touched.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace outpost::fleet {

// Called before answering 413 to a body whose Content-Length is over the limit. A client that
// writes its whole body before reading (httplib's) sees the answer only when the body was
// read, so a body of at most 64 MiB is read and discarded; a larger one is not read at all
// and the connection closes after the answer.
void DrainSmallExcess(const httplib::ContentReader& reader, int64_t content_length);

// Reads the request body through httplib's content reader, refusing more than `max_bytes`
// (413) before it is all in memory.
std::string ReadBody(const httplib::Request& req, const httplib::ContentReader& reader, int64_t max_bytes);

// Parses `body` as a JSON object (400 when malformed or not an object; empty body: {}).
nlohmann::json ParseObject(const std::string& body);

// Field access on one object; `where` prefixes messages ("record 3: ").
class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::initializer_list<const char*> allowed, std::string where = "");

  bool has(const char* name) const;
  std::string String(const char* name) const;                 // required
  std::optional<std::string> OptString(const char* name) const;
  int64_t Int(const char* name) const;                        // required integer
  std::optional<int64_t> OptInt(const char* name) const;
  double Number(const char* name) const;                      // required number (integer or real)
  std::optional<double> OptNumber(const char* name) const;    // absent or null: none
  std::vector<std::string> Strings(const char* name) const;   // required array of strings
  std::optional<std::vector<std::string>> OptStrings(const char* name) const;
  const nlohmann::json* Object(const char* name) const;       // optional object

 private:
  [[noreturn]] void Fail(const char* name, const char* what) const;
  const nlohmann::json& object_;
  std::string where_;
};

}  // namespace outpost::fleet
