// SQLite behind SqlDatabase: statements are prepared, bound, stepped and finalized per call;
// a transaction holds the connection's mutex from BEGIN IMMEDIATE to COMMIT.
#include "fleet/store/sqlite_database.h"

#include <sqlite3.h>

#include <chrono>
#include <mutex>
#include <thread>

namespace outpost::fleet {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr int kBusyAttempts = 5;

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  Expected<SqlResult> Execute(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return Fail(rc);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt))
      return Error("database error: statement expects " + std::to_string(sqlite3_bind_parameter_count(stmt)) +
                   " parameters, got " + std::to_string(params.size()));
    for (size_t i = 0; i < params.size(); ++i) {
      const int at = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      if (const auto* n = std::get_if<int64_t>(&v)) rc = sqlite3_bind_int64(stmt, at, *n);
      else if (const auto* d = std::get_if<double>(&v)) rc = sqlite3_bind_double(stmt, at, *d);
      else if (const auto* s = std::get_if<std::string>(&v))
        rc = sqlite3_bind_text(stmt, at, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      else rc = sqlite3_bind_null(stmt, at);
      if (rc != SQLITE_OK) return Fail(rc);
    }
    SqlResult result;
    const int columns = sqlite3_column_count(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      SqlRow row;
      row.cells.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER: row.cells.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c))); break;
          case SQLITE_FLOAT: row.cells.emplace_back(sqlite3_column_double(stmt, c)); break;
          case SQLITE_NULL: row.cells.emplace_back(std::monostate{}); break;
          default: {
            const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
            row.cells.emplace_back(std::string(p ? p : "", sqlite3_column_bytes(stmt, c)));
          }
        }
      }
      result.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return Fail(rc);
    // sqlite3_changes() keeps the last write's count across reads: only a write reports it.
    result.changed = sqlite3_stmt_readonly(stmt) ? 0 : sqlite3_changes64(db_);
    return result;
  }

  // Set when a statement failed because another process held the database: worth a retry.
  bool busy = false;

 private:
  Error Fail(int rc) {
    const int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) busy = true;
    return Error(std::string("database error: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
};

class SqliteDatabase final : public SqlDatabase {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db), connection_(db) {}
  ~SqliteDatabase() override { sqlite3_close_v2(db_); }

  std::string dialect() const override { return "sqlite"; }

  Expected<Unit> Transaction(const std::function<Expected<Unit>(SqlConnection&)>& work) override {
    std::lock_guard<std::mutex> lock(mutex_);
    Expected<Unit> last = Error("database error: transaction not attempted");
    for (int attempt = 0; attempt < kBusyAttempts; ++attempt) {
      connection_.busy = false;
      last = Attempt(work);
      if (last || !connection_.busy) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 << attempt));  // back off before retrying
    }
    return last;
  }

 private:
  Expected<Unit> Attempt(const std::function<Expected<Unit>(SqlConnection&)>& work) {
    // IMMEDIATE takes the write lock up front, so a transaction never fails half-way on upgrade.
    auto begun = connection_.Execute("BEGIN IMMEDIATE", {});
    if (!begun) return begun.error();
    Expected<Unit> outcome = Unit{};
    try {
      outcome = work(connection_);
    } catch (const Error& e) {
      outcome = e;
    } catch (...) {
      (void)connection_.Execute("ROLLBACK", {});
      throw;
    }
    if (!outcome) {
      (void)connection_.Execute("ROLLBACK", {});
      return outcome;
    }
    auto committed = connection_.Execute("COMMIT", {});
    if (!committed) {
      (void)connection_.Execute("ROLLBACK", {});
      return committed.error();
    }
    return Unit{};
  }

  sqlite3* db_;
  SqliteConnection connection_;
  std::mutex mutex_;
};

}  // namespace

Expected<std::unique_ptr<SqlDatabase>> OpenSqliteDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Error("cannot open SQLite database " + path + ": " + message);
  }
  auto database = std::make_unique<SqliteDatabase>(db);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db, 1);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"}) {
    char* err = nullptr;
    if (sqlite3_exec(db, pragma, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err ? err : "unknown error";
      sqlite3_free(err);
      return Error("cannot open SQLite database " + path + ": " + message);
    }
  }
  return std::unique_ptr<SqlDatabase>(std::move(database));
}

}  // namespace outpost::fleet
