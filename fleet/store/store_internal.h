// Helpers shared by the FleetStore's files (not part of its interface). Inside the store,
// statements throw outpost::Error; each public method converts with Capture(), and a throw
// inside a Transaction rolls it back.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fleet/store/fleet_store.h"

namespace outpost::fleet::internal {

inline SqlResult Run(SqlConnection& c, const std::string& sql, const std::vector<SqlValue>& params = {}) {
  auto r = c.Execute(sql, params);
  if (!r) throw r.error();
  return std::move(r.value());
}

inline SqlResult Query(SqlDatabase& db, const std::string& sql, const std::vector<SqlValue>& params = {}) {
  auto r = db.Execute(sql, params);
  if (!r) throw r.error();
  return std::move(r.value());
}

// Runs `f(connection)` in one transaction and returns its value; throws on failure.
template <typename F>
auto InTransaction(SqlDatabase& db, F&& f) -> decltype(f(std::declval<SqlConnection&>())) {
  std::optional<decltype(f(std::declval<SqlConnection&>()))> out;
  auto done = db.Transaction([&](SqlConnection& c) -> Expected<Unit> {
    out = f(c);
    return Unit{};
  });
  if (!done) throw done.error();
  return std::move(*out);
}

// SQL text for an optional double.
inline SqlValue Optional(const std::optional<double>& v) { return v ? SqlValue(*v) : SqlValue(); }
inline std::optional<double> OptionalReal(const SqlRow& row, size_t i) {
  return row.is_null(i) ? std::nullopt : std::optional<double>(row.real(i));
}

// Tags are kept as a JSON array of strings on the owning row (and one per row in device_tags).
std::string TagsToJson(const std::vector<std::string>& tags);
std::vector<std::string> TagsFromJson(const std::string& text);

}  // namespace outpost::fleet::internal
