// Row accessors, the one-statement helper and the URL dispatch shared by both drivers.
#include "fleet/store/sql_database.h"

#include <charconv>
#include <cstdlib>

#include "fleet/store/postgres_database.h"
#include "fleet/store/sqlite_database.h"

namespace outpost::fleet {

int64_t SqlRow::integer(size_t i) const {
  const SqlValue& v = cells.at(i);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) {
    // PostgreSQL returns NUMERIC (SUM of BIGINT) as text; it may carry a fraction.
    if (s->find_first_of(".eE") != std::string::npos) return static_cast<int64_t>(std::strtod(s->c_str(), nullptr));
    return std::strtoll(s->c_str(), nullptr, 10);
  }
  return 0;
}

double SqlRow::real(size_t i) const {
  const SqlValue& v = cells.at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* s = std::get_if<std::string>(&v)) return std::strtod(s->c_str(), nullptr);
  return 0;
}

std::string SqlRow::text(size_t i) const {
  const SqlValue& v = cells.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof(buf), *d);  // shortest text that reads back exactly
    return std::string(buf, r.ptr);
  }
  return "";
}

Expected<SqlResult> SqlDatabase::Execute(const std::string& sql, const std::vector<SqlValue>& params) {
  SqlResult result;
  auto done = Transaction([&](SqlConnection& c) -> Expected<Unit> {
    auto r = c.Execute(sql, params);
    if (!r) return r.error();
    result = std::move(r.value());
    return Unit{};
  });
  if (!done) return done.error();
  return result;
}

Expected<std::unique_ptr<SqlDatabase>> OpenSqlDatabase(const std::string& url, int connections) {
  auto starts = [&](const char* prefix) { return url.rfind(prefix, 0) == 0; };
  if (starts("sqlite:")) return OpenSqliteDatabase(url.substr(7));
  if (starts("postgresql://") || starts("postgres://")) return OpenPostgresDatabase(url, connections);
  // Only the scheme is quoted back: the rest of a URL may hold a password.
  const size_t colon = url.find(':');
  const std::string scheme = colon == std::string::npos || colon > 32 ? "" : url.substr(0, colon);
  return Error("unsupported database URL" + (scheme.empty() ? std::string() : " scheme '" + scheme + "'") +
               " (expected sqlite:PATH, sqlite::memory: or postgresql://...)");
}

}  // namespace outpost::fleet
