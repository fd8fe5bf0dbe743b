// The telemetry buffer over the SQLite C API directly. The fleet store's driver
// (fleet/store/sql_database.h) is the server's: it brings the PostgreSQL client along, sets
// synchronous=NORMAL and reports every failure alike, where the buffer must tell a full disk
// and a corrupt file apart and must not lose an acknowledged seq (see the journal note below).
#include "agent/telemetry/telemetry_buffer.h"

#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <utility>
#include <variant>

namespace outpost::agent {
namespace {

using BufferValue = std::variant<int64_t, std::string>;

// Durability: WAL journal with synchronous=FULL, so every commit is on the disk (the WAL file
// fsynced) before Append returns. With NORMAL a power cut could roll back the last commits,
// and with them the persisted seq: a record already uploaded under that seq would then be
// followed by a different record reusing it, which the server would discard as a duplicate.
// FULL costs one fsync per record, a few per minute at the reporting rate. After a power cut
// the buffer holds exactly the records appended and not yet acknowledged.
constexpr const char* kBufferPragmas[] = {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"};

constexpr const char* kBufferSchema =
    "CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY, bytes INTEGER NOT NULL, body "
    "TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO counters VALUES ('last_seq', 0), ('dropped_records', 0);";

// One message per failure, naming the file; a full disk and a damaged file each say so.
Error BufferError(sqlite3* db, int rc, const std::string& path, const std::string& doing) {
  const int primary = rc & 0xff;
  const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (primary == SQLITE_FULL)
    return Error("telemetry buffer " + path + ": the disk is full while " + doing + " (" + detail +
                 "); the records already stored are kept");
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    return Error("telemetry buffer " + path + " is corrupt or not a telemetry buffer (" + detail +
                 ")");
  if (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM)
    return Error("telemetry buffer " + path + " cannot be written (" + detail + ")");
  return Error("telemetry buffer " + path + ": " + doing + " failed (" + detail + ")");
}

// Runs one statement; `row` sees each result row's columns as integers or text.
int RunBufferStatement(sqlite3* db, const char* sql, const std::vector<BufferValue>& params,
                       const std::function<void(sqlite3_stmt*)>& row = nullptr) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return rc;
  for (size_t i = 0; i < params.size() && rc == SQLITE_OK; ++i) {
    const int at = static_cast<int>(i) + 1;
    if (const auto* n = std::get_if<int64_t>(&params[i]))
      rc = sqlite3_bind_int64(stmt, at, *n);
    else {
      const auto& s = std::get<std::string>(params[i]);
      rc = sqlite3_bind_text(stmt, at, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
  }
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (row) row(stmt);
    }
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  sqlite3_finalize(stmt);
  return rc;
}

int64_t BufferColumnInt(sqlite3_stmt* stmt, int column) {
  return sqlite3_column_int64(stmt, column);
}

std::string BufferColumnText(sqlite3_stmt* stmt, int column) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return std::string(p ? p : "", sqlite3_column_bytes(stmt, column));
}

// A transaction that rolls back unless committed (a failed statement may already have ended it:
// the ROLLBACK's own error is then of no interest).
class BufferTransaction {
 public:
  explicit BufferTransaction(sqlite3* db) : db_(db) {}
  ~BufferTransaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  int Begin() {
    const int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    open_ = rc == SQLITE_OK;
    return rc;
  }
  int Commit() {
    const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) open_ = false;
    return rc;
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

}  // namespace

Expected<std::unique_ptr<TelemetryBuffer>> TelemetryBuffer::Open(const std::string& path,
                                                                 TelemetryBufferOptions options) {
  if (options.max_records < 1 || options.max_bytes < 1 || options.max_file_bytes < 0)
    return Error("telemetry buffer bounds must be positive");
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = BufferError(db, rc, path, "opening");
    sqlite3_close_v2(db);
    return e;
  }
  std::unique_ptr<TelemetryBuffer> buffer(new TelemetryBuffer(db, path, options));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 2000);
  if (sqlite3_db_readonly(db, "main") == 1)
    return Error("telemetry buffer " + path + " cannot be written (read-only)");
  for (const char* pragma : kBufferPragmas) {
    if ((rc = sqlite3_exec(db, pragma, nullptr, nullptr, nullptr)) != SQLITE_OK)
      return BufferError(db, rc, path, "opening");
  }
  // A damaged file is found now rather than half-way through an upload.
  std::string check;
  rc = RunBufferStatement(db, "PRAGMA quick_check(1)", {},
                          [&](sqlite3_stmt* s) { check = BufferColumnText(s, 0); });
  if (rc != SQLITE_OK) return BufferError(db, rc, path, "checking");
  if (check != "ok") return Error("telemetry buffer " + path + " is corrupt (" + check + ")");
  if ((rc = sqlite3_exec(db, kBufferSchema, nullptr, nullptr, nullptr)) != SQLITE_OK)
    return BufferError(db, rc, path, "creating its tables");
  if (options.max_file_bytes > 0) {
    int64_t page_size = 4096;
    RunBufferStatement(db, "PRAGMA page_size", {},
                       [&](sqlite3_stmt* s) { page_size = BufferColumnInt(s, 0); });
    const std::string cap = "PRAGMA max_page_count=" + std::to_string(std::max<int64_t>(
                                                           1, options.max_file_bytes / page_size));
    if ((rc = sqlite3_exec(db, cap.c_str(), nullptr, nullptr, nullptr)) != SQLITE_OK)
      return BufferError(db, rc, path, "opening");
  }
  TelemetryBufferStats& s = buffer->stats_;
  rc = RunBufferStatement(db, "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM records", {},
                          [&](sqlite3_stmt* st) {
                            s.records = BufferColumnInt(st, 0);
                            s.bytes = BufferColumnInt(st, 1);
                          });
  if (rc == SQLITE_OK) {
    rc = RunBufferStatement(db, "SELECT name, value FROM counters", {}, [&](sqlite3_stmt* st) {
      const std::string name = BufferColumnText(st, 0);
      if (name == "last_seq") s.last_seq = BufferColumnInt(st, 1);
      if (name == "dropped_records") s.dropped_records = BufferColumnInt(st, 1);
    });
  }
  if (rc != SQLITE_OK) return BufferError(db, rc, path, "reading its contents");
  return buffer;
}

TelemetryBuffer::TelemetryBuffer(sqlite3* db, std::string path, TelemetryBufferOptions options)
    : db_(db), path_(std::move(path)), options_(options) {}

TelemetryBuffer::~TelemetryBuffer() { sqlite3_close_v2(db_); }

Expected<int64_t> TelemetryBuffer::Append(const nlohmann::json& record) {
  if (!record.is_object()) return Error("a telemetry record must be a JSON object");
  std::lock_guard<std::mutex> lock(mutex_);
  TelemetryBufferStats next = stats_;
  next.last_seq = stats_.last_seq + 1;
  nlohmann::json body = record;
  body["seq"] = next.last_seq;
  const auto render = [&] {
    if (next.dropped_records > 0) body["dropped_records"] = next.dropped_records;
    return body.dump();
  };
  std::string text = render();
  if (static_cast<int64_t>(text.size()) > options_.max_bytes)
    return Error("telemetry record of " + std::to_string(text.size()) +
                 " bytes exceeds the buffer's bound of " + std::to_string(options_.max_bytes) +
                 " bytes");

  BufferTransaction transaction(db_);
  int rc = transaction.Begin();
  // The oldest go first until the new record fits; it then reports the drops it caused.
  while (rc == SQLITE_OK && next.records > 0 &&
         (next.records + 1 > options_.max_records ||
          next.bytes + static_cast<int64_t>(text.size()) > options_.max_bytes)) {
    int64_t oldest = 0, oldest_bytes = 0;
    rc = RunBufferStatement(db_, "SELECT seq, bytes FROM records ORDER BY seq LIMIT 1", {},
                            [&](sqlite3_stmt* s) {
                              oldest = BufferColumnInt(s, 0);
                              oldest_bytes = BufferColumnInt(s, 1);
                            });
    if (rc != SQLITE_OK) break;
    rc = RunBufferStatement(db_, "DELETE FROM records WHERE seq = ?", {oldest});
    next.records -= 1;
    next.bytes -= oldest_bytes;
    next.dropped_records += 1;
    text = render();
  }
  if (rc == SQLITE_OK)
    rc = RunBufferStatement(db_, "INSERT INTO records (seq, bytes, body) VALUES (?, ?, ?)",
                            {next.last_seq, static_cast<int64_t>(text.size()), text});
  if (rc == SQLITE_OK)
    rc = RunBufferStatement(db_, "UPDATE counters SET value = ? WHERE name = 'last_seq'",
                            {next.last_seq});
  if (rc == SQLITE_OK)
    rc = RunBufferStatement(db_, "UPDATE counters SET value = ? WHERE name = 'dropped_records'",
                            {next.dropped_records});
  if (rc == SQLITE_OK) rc = transaction.Commit();
  if (rc != SQLITE_OK) return BufferError(db_, rc, path_, "appending a record");
  next.records += 1;
  next.bytes += static_cast<int64_t>(text.size());
  stats_ = next;
  return next.last_seq;
}

Expected<std::vector<BufferedRecord>> TelemetryBuffer::Peek(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<BufferedRecord> records;
  const int rc =
      RunBufferStatement(db_, "SELECT seq, body FROM records ORDER BY seq LIMIT ?",
                         {std::max<int64_t>(0, n)}, [&](sqlite3_stmt* s) {
                           records.push_back({BufferColumnInt(s, 0), BufferColumnText(s, 1)});
                         });
  if (rc != SQLITE_OK) return BufferError(db_, rc, path_, "reading records");
  return records;
}

Expected<Unit> TelemetryBuffer::Acknowledge(int64_t seq) {
  Expected<int64_t> deleted = DeleteUpTo(seq, false);
  if (!deleted) return deleted.error();
  return Unit{};
}

Expected<int64_t> TelemetryBuffer::Discard(int64_t seq) { return DeleteUpTo(seq, true); }

Expected<int64_t> TelemetryBuffer::DeleteUpTo(int64_t seq, bool count_as_dropped) {
  std::lock_guard<std::mutex> lock(mutex_);
  TelemetryBufferStats next = stats_;
  int64_t count = 0, bytes = 0;
  BufferTransaction transaction(db_);
  int rc = transaction.Begin();
  if (rc == SQLITE_OK)
    rc = RunBufferStatement(db_,
                            "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM records WHERE seq <= ?",
                            {seq}, [&](sqlite3_stmt* s) {
                              count = BufferColumnInt(s, 0);
                              bytes = BufferColumnInt(s, 1);
                            });
  if (rc == SQLITE_OK) rc = RunBufferStatement(db_, "DELETE FROM records WHERE seq <= ?", {seq});
  next.records -= count;
  next.bytes -= bytes;
  if (count_as_dropped) {
    next.dropped_records += count;
    if (rc == SQLITE_OK)
      rc = RunBufferStatement(db_, "UPDATE counters SET value = ? WHERE name = 'dropped_records'",
                              {next.dropped_records});
  }
  if (rc == SQLITE_OK) rc = transaction.Commit();
  if (rc != SQLITE_OK)
    return BufferError(
        db_, rc, path_,
        count_as_dropped ? "deleting refused records" : "deleting delivered records");
  stats_ = next;
  return count;
}

TelemetryBufferStats TelemetryBuffer::Stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace outpost::agent
