#include "fleet/server/json_input.h"

#include <cmath>

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

nlohmann::json ParseObject(const std::string& body) {
  if (body.empty()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw ApiError(400, "malformed JSON in the request body");
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
  return j;
}

JsonFields::JsonFields(const nlohmann::json& object, std::initializer_list<const char*> allowed, std::string where)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) throw ApiError(400, where_ + "expected a JSON object");
  for (const auto& [key, value] : object_.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) throw ApiError(400, where_ + "unknown field '" + key + "'");
  }
}

void JsonFields::Fail(const char* name, const char* what) const {
  throw ApiError(400, where_ + "field '" + name + "' " + what);
}

bool JsonFields::has(const char* name) const { return object_.contains(name); }

std::string JsonFields::String(const char* name) const {
  if (!has(name)) Fail(name, "is required");
  return *OptString(name);
}

std::optional<std::string> JsonFields::OptString(const char* name) const {
  if (!has(name)) return std::nullopt;
  const nlohmann::json& v = object_.at(name);
  if (!v.is_string()) Fail(name, "must be a string");
  return v.get<std::string>();
}

int64_t JsonFields::Int(const char* name) const {
  if (!has(name)) Fail(name, "is required");
  return *OptInt(name);
}

std::optional<int64_t> JsonFields::OptInt(const char* name) const {
  if (!has(name)) return std::nullopt;
  const nlohmann::json& v = object_.at(name);
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) Fail(name, "is out of range");
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (!v.is_number_integer()) Fail(name, "must be an integer");
  return v.get<int64_t>();
}

double JsonFields::Number(const char* name) const {
  if (!has(name)) Fail(name, "is required");
  return *OptNumber(name);
}

std::optional<double> JsonFields::OptNumber(const char* name) const {
  if (!has(name) || object_.at(name).is_null()) return std::nullopt;
  const nlohmann::json& v = object_.at(name);
  if (!v.is_number()) Fail(name, "must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d)) Fail(name, "must be finite");
  return d;
}

std::vector<std::string> JsonFields::Strings(const char* name) const {
  if (!has(name)) Fail(name, "is required");
  return *OptStrings(name);
}

std::optional<std::vector<std::string>> JsonFields::OptStrings(const char* name) const {
  if (!has(name)) return std::nullopt;
  const nlohmann::json& v = object_.at(name);
  if (!v.is_array()) Fail(name, "must be an array of strings");
  std::vector<std::string> out;
  for (const nlohmann::json& e : v) {
    if (!e.is_string()) Fail(name, "must be an array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

const nlohmann::json* JsonFields::Object(const char* name) const {
  if (!has(name)) return nullptr;
  const nlohmann::json& v = object_.at(name);
  if (!v.is_object()) Fail(name, "must be an object");
  return &v;
}

}  // namespace outpost::fleet
