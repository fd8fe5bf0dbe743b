// Strict reading of JSON that people write or that arrives from outside: the fleet server's
// device and operator requests, rollout plans and alert rules, and the Advisor's hardware
// catalog. An unknown key is refused rather than ignored (a misspelt gate or catalog field must
// never fall back to a default), each field has one type, numbers are checked against their
// range, and every refusal is one message naming the object and the field ("record 2: 'seq'
// must be at least 1, got 0").
//
// It sits in common/, below every layer that reads such JSON, and knows nothing of HTTP: it
// throws outpost::Error, the parsers turn that into Expected at their boundary, and the server
// maps a refused body to 400 at its own. That also lets the fuzz build compile the fleet's
// parsers without the server (tests/fuzz/fuzz_fleet_json.cc).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace outpost {

// `text` as one JSON value; malformed JSON or nesting deeper than kMaxJsonDepth is refused
// ("<where>: not valid JSON (...)"). The depth limit keeps the recursive parts of
// nlohmann::json (dump, copy, compare) within the stack on any input.
inline constexpr int kMaxJsonDepth = 64;
nlohmann::json ParseJsonText(std::string_view text, std::string_view where);
// The same, and the value must be an object; empty text is {} (a request without a body).
nlohmann::json ParseJsonObject(std::string_view text, std::string_view where);

// A short, printable form of a value for messages: its JSON text, cut to about 60 bytes on a
// UTF-8 boundary (a refused value may be as large as the body).
std::string ShowJson(const nlohmann::json& value);
// The same for a string the client sent, quoted.
std::string ShowString(std::string_view text);

// The fields of one object. The constructor refuses a non-object and any key outside
// `allowed`; the accessors refuse a wrong type or an out-of-range value. `where` names the
// object in messages ("rollout plan: stage 2"). `object` must outlive the JsonFields.
class JsonFields {
 public:
  static constexpr int64_t kIntMin = std::numeric_limits<int64_t>::min();
  static constexpr int64_t kIntMax = std::numeric_limits<int64_t>::max();
  static constexpr double kInf = std::numeric_limits<double>::infinity();

  JsonFields(const nlohmann::json& object, std::string_view where,
             std::initializer_list<std::string_view> allowed);

  bool has(const char* key) const { return object_.contains(key); }
  const std::string& where() const { return where_; }

  // Required fields (absent: "'key' is required").
  std::string String(const char* key) const;
  int64_t Int(const char* key, int64_t lo = kIntMin, int64_t hi = kIntMax) const;
  double Number(const char* key, double lo = -kInf, double hi = kInf) const;  // finite
  std::vector<std::string> Strings(const char* key) const;
  const nlohmann::json& Array(const char* key) const;

  // Optional fields: absent gives none. Integers accept a whole number written as a real
  // (600.0), so that a plan written by a tool that only has doubles still reads back.
  std::optional<std::string> OptString(const char* key) const;
  std::optional<int64_t> OptInt(const char* key, int64_t lo = kIntMin, int64_t hi = kIntMax) const;
  // Absent or null gives none (null is how a client says "not measured" or "gate off").
  std::optional<double> OptNumber(const char* key, double lo = -kInf, double hi = kInf) const;
  std::optional<std::vector<std::string>> OptStrings(const char* key) const;
  const nlohmann::json* OptObject(const char* key) const;  // absent: nullptr

  // Refuses the field with the caller's own reason ("is not a semantic version"), in the same
  // form as the checks above: "<where>: '<key>' <problem>".
  [[noreturn]] void Fail(const char* key, const std::string& problem) const;
  // A refusal of the object as a whole: "<where>: <problem>".
  [[noreturn]] void FailObject(const std::string& problem) const;

 private:
  const nlohmann::json& Required(const char* key) const;
  [[noreturn]] void FailValue(const char* key, const std::string& problem, const nlohmann::json& value) const;
  int64_t IntValue(const char* key, const nlohmann::json& v, int64_t lo, int64_t hi) const;
  double NumberValue(const char* key, const nlohmann::json& v, double lo, double hi) const;
  std::vector<std::string> StringsValue(const char* key, const nlohmann::json& v) const;

  const nlohmann::json& object_;
  std::string where_;
};

}  // namespace outpost
