#include "fleet/rollout/json_fields.h"

#include <algorithm>
#include <cmath>

namespace outpost::fleet {

namespace {

std::string Prefix(std::string_view where, const char* key) {
  return std::string(where) + ": '" + key + "'";
}

// Shortest readable form of a bound (600 rather than 600.000000).
std::string Show(double v) {
  nlohmann::json j = v;
  if (v == std::floor(v) && std::fabs(v) < 1e15) j = static_cast<int64_t>(v);
  return j.dump();
}

}  // namespace

void CheckFields(const nlohmann::json& j, std::string_view where,
                 std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) throw Error(std::string(where) + ": expected a JSON object, got " + j.dump());
  for (const auto& [key, value] : j.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw Error(std::string(where) + ": unknown field '" + key + "' (allowed: " + list + ")");
    }
}

double NumberField(const nlohmann::json& j, std::string_view where, const char* key,
                   double fallback, double lo, double hi) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_number()) throw Error(Prefix(where, key) + " must be a number, got " + it->dump());
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi)
    throw Error(Prefix(where, key) + " must be in " + Show(lo) + ".." + Show(hi) + ", got " +
                it->dump());
  return v;
}

int64_t IntegerField(const nlohmann::json& j, std::string_view where, const char* key,
                     int64_t fallback, int64_t lo, int64_t hi) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_number_integer() &&
      !(it->is_number_float() && it->get<double>() == std::floor(it->get<double>())))
    throw Error(Prefix(where, key) + " must be a whole number, got " + it->dump());
  const double d = it->get<double>();
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
    throw Error(Prefix(where, key) + " must be in " + std::to_string(lo) + ".." +
                std::to_string(hi) + ", got " + it->dump());
  return it->is_number_integer() ? it->get<int64_t>() : static_cast<int64_t>(d);
}

std::string StringField(const nlohmann::json& j, std::string_view where, const char* key,
                        const std::string& fallback) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_string()) throw Error(Prefix(where, key) + " must be a string, got " + it->dump());
  return it->get<std::string>();
}

}  // namespace outpost::fleet
