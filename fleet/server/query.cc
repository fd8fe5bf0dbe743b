#include "fleet/server/query.h"

#include <charconv>
#include <string>

#include "fleet/server/api_error.h"

namespace outpost::fleet {

int64_t QueryInt(const httplib::Request& req, const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || out < lo || out > hi)
    throw ApiError(400, std::string("query parameter '") + name + "' must be an integer from " + std::to_string(lo) +
                            " to " + std::to_string(hi));
  return out;
}

void CheckQuery(const httplib::Request& req, std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : req.params) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) throw ApiError(400, "unknown query parameter '" + key + "'");
  }
}

}  // namespace outpost::fleet
