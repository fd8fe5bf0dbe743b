// The fleet server's SQL driver: one small interface, two implementations (SQLite, the
// embedded default, and PostgreSQL through libpq). The fleet store above it writes every
// statement once, in the dialect both accept (INSERT ... ON CONFLICT, RETURNING, BIGINT,
// TEXT, no AUTOINCREMENT/SERIAL: ids are made by the server), with `?` placeholders that the
// PostgreSQL driver rewrites to $1, $2, ... (a `?` inside a quoted literal is left alone).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/expected.h"

namespace outpost::fleet {

// A bound parameter or a result cell. Integers are 64-bit on both databases (BIGINT).
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

struct SqlRow {
  std::vector<SqlValue> cells;
  bool is_null(size_t i) const { return std::holds_alternative<std::monostate>(cells.at(i)); }
  int64_t integer(size_t i) const;      // 0 for NULL; a text cell is parsed
  double real(size_t i) const;          // 0 for NULL; integer and text cells are converted
  std::string text(size_t i) const;     // "" for NULL; numbers are formatted
};

struct SqlResult {
  std::vector<SqlRow> rows;
  int64_t changed = 0;  // rows inserted, updated or deleted by the statement
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual Expected<SqlResult> Execute(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
};

class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;

  // "sqlite" or "postgresql".
  virtual std::string dialect() const = 0;

  // Runs `work` inside one transaction on one connection: committed when `work` returns a
  // value, rolled back when it returns an Error or throws. A serialization failure or deadlock
  // (PostgreSQL, several server processes) or SQLITE_BUSY is retried a bounded number of times,
  // so `work` must have no side effect outside the database.
  virtual Expected<Unit> Transaction(const std::function<Expected<Unit>(SqlConnection&)>& work) = 0;

  // One statement in its own transaction.
  Expected<SqlResult> Execute(const std::string& sql, const std::vector<SqlValue>& params = {});
};

// "sqlite:PATH" (a file, created when missing; WAL journal) or "sqlite::memory:",
// "postgresql://user@host:port/db" or "postgres://..." (a libpq connection URI).
// `connections` bounds the PostgreSQL pool; SQLite uses one writer connection.
Expected<std::unique_ptr<SqlDatabase>> OpenSqlDatabase(const std::string& url, int connections = 8);

}  // namespace outpost::fleet
