// PostgreSQL behind SqlDatabase. Connections are made lazily up to the pool's bound and kept;
// a connection found broken is dropped and replaced. Each Transaction borrows one connection
// for BEGIN ... COMMIT, so `work` sees one consistent session.
#include "fleet/store/postgres_database.h"

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace outpost::fleet {
namespace {

constexpr int kSerializationAttempts = 8;

// Type oids from pg_type.h (not installed with the client headers).
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kOidOid = 26;
constexpr Oid kFloat4Oid = 700, kFloat8Oid = 701;

// Removes every occurrence of `secret` from `text` (libpq may echo parts of the URI).
std::string Redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
    text.replace(at, secret.size(), "***");
  return text;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class PostgresConnection final : public SqlConnection {
 public:
  PostgresConnection(PGconn* conn, const std::string& password) : conn_(conn), password_(password) {}

  Expected<SqlResult> Execute(const std::string& sql, const std::vector<SqlValue>& params) override {
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) continue;  // NULL
      SqlRow cell{{v}};
      texts[i] = cell.text(0);
      values[i] = texts[i].c_str();
    }
    const std::string rewritten = RewritePlaceholders(sql);
    PGresult* res = PQexecParams(conn_, rewritten.c_str(), static_cast<int>(params.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0);
    std::unique_ptr<PGresult, void (*)(PGresult*)> guard(res, PQclear);
    const ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
      sqlstate = state ? state : "";
      const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
      std::string message = primary ? primary : Trim(PQerrorMessage(conn_));
      if (message.empty()) message = "no response from the server";
      return Error("database error: " + Redact(message, password_));
    }
    SqlResult result;
    const int rows = PQntuples(res), columns = PQnfields(res);
    result.rows.reserve(rows);
    for (int r = 0; r < rows; ++r) {
      SqlRow row;
      row.cells.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(res, r, c)) {
          row.cells.emplace_back(std::monostate{});
          continue;
        }
        const char* text = PQgetvalue(res, r, c);
        switch (PQftype(res, c)) {
          case kInt2Oid: case kInt4Oid: case kInt8Oid: case kOidOid:
            row.cells.emplace_back(static_cast<int64_t>(std::strtoll(text, nullptr, 10)));
            break;
          case kFloat4Oid: case kFloat8Oid: row.cells.emplace_back(std::strtod(text, nullptr)); break;
          case kBoolOid: row.cells.emplace_back(static_cast<int64_t>(text[0] == 't')); break;
          default: row.cells.emplace_back(std::string(text, PQgetlength(res, r, c)));
        }
      }
      result.rows.push_back(std::move(row));
    }
    // PQcmdTuples also counts a SELECT's rows: only a write reports what it changed.
    const std::string command = PQcmdStatus(res);
    const bool write = command.rfind("INSERT", 0) == 0 || command.rfind("UPDATE", 0) == 0 ||
                       command.rfind("DELETE", 0) == 0 || command.rfind("MERGE", 0) == 0;
    const char* tuples = PQcmdTuples(res);
    result.changed = write && tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0;
    return result;
  }

  PGconn* conn() const { return conn_; }
  std::string sqlstate;  // of the last failed statement

 private:
  PGconn* conn_;
  const std::string& password_;
};

class PostgresDatabase final : public SqlDatabase {
 public:
  PostgresDatabase(std::string url, std::string password, int connections)
      : url_(std::move(url)), password_(std::move(password)), limit_(connections < 1 ? 1 : connections) {}
  ~PostgresDatabase() override {
    for (PGconn* c : idle_) PQfinish(c);
  }

  std::string dialect() const override { return "postgresql"; }

  Expected<PGconn*> Connect() {
    PGconn* conn = PQconnectdb(url_.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message = Trim(PQerrorMessage(conn));
      PQfinish(conn);
      return Error("cannot connect to PostgreSQL: " + Redact(message, password_));
    }
    PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // "relation exists, skipping"
    return conn;
  }

  // Borrows a connection: an idle one, a new one while under the bound, or waits.
  Expected<PGconn*> Acquire() {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return !idle_.empty() || open_ < limit_; });
      if (!idle_.empty()) {
        PGconn* c = idle_.back();
        idle_.pop_back();
        return c;
      }
      ++open_;
    }
    auto made = Connect();
    if (!made) {
      std::lock_guard<std::mutex> lock(mutex_);
      --open_;
      cv_.notify_one();
    }
    return made;
  }

  void Release(PGconn* conn) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE) {
      idle_.push_back(conn);
    } else {
      PQfinish(conn);
      --open_;
    }
    cv_.notify_one();
  }

  Expected<Unit> Transaction(const std::function<Expected<Unit>(SqlConnection&)>& work) override {
    Expected<Unit> last = Error("database error: transaction not attempted");
    for (int attempt = 0; attempt < kSerializationAttempts; ++attempt) {
      auto conn = Acquire();
      if (!conn) return conn.error();
      PostgresConnection connection(conn.value(), password_);
      bool retry = false;
      try {
        last = Attempt(connection, work, &retry);
      } catch (...) {
        Release(conn.value());
        throw;
      }
      const bool broken = PQstatus(conn.value()) != CONNECTION_OK;
      Release(conn.value());
      if (last || !(retry || broken)) return last;
      // Another server's transaction won: back off a little (with jitter) and run `work` again.
      std::this_thread::sleep_for(std::chrono::milliseconds((5 << attempt) + std::rand() % 10));
    }
    return last;
  }

 private:
  static Expected<Unit> Attempt(PostgresConnection& c, const std::function<Expected<Unit>(SqlConnection&)>& work,
                                bool* retry) {
    auto begun = c.Execute("BEGIN", {});
    if (!begun) return begun.error();
    Expected<Unit> outcome = Unit{};
    try {
      outcome = work(c);
    } catch (const Error& e) {
      outcome = e;
    } catch (...) {
      (void)c.Execute("ROLLBACK", {});
      throw;
    }
    if (outcome) {
      auto committed = c.Execute("COMMIT", {});
      if (committed) return Unit{};
      outcome = committed.error();
    }
    *retry = c.sqlstate == "40001" || c.sqlstate == "40P01";
    (void)c.Execute("ROLLBACK", {});
    return outcome;
  }

  const std::string url_;
  const std::string password_;
  const int limit_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<PGconn*> idle_;
  int open_ = 0;  // idle + borrowed
};

}  // namespace

std::string RewritePlaceholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char ch = sql[i];
    if (ch == '\'' || ch == '"') {
      // A quoted literal or identifier runs to the matching quote; a doubled quote is an escape
      // and simply reopens it on the next turn of this loop.
      const size_t end = sql.find(ch, i + 1);
      const size_t stop = end == std::string::npos ? sql.size() : end + 1;
      out.append(sql, i, stop - i);
      i = stop - 1;
    } else if (ch == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const size_t end = sql.find('\n', i);
      const size_t stop = end == std::string::npos ? sql.size() : end;
      out.append(sql, i, stop - i);
      i = stop - 1;
    } else if (ch == '?') {
      out += '$' + std::to_string(next++);
    } else {
      out += ch;
    }
  }
  return out;
}

Expected<std::unique_ptr<SqlDatabase>> OpenPostgresDatabase(const std::string& url, int connections) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error);
  if (!options) {
    std::string message = parse_error ? Trim(parse_error) : "out of memory";
    PQfreemem(parse_error);
    // The parser's message quotes no part of the URI, but redact the whole URI to be safe.
    return Error("invalid PostgreSQL URL: " + Redact(message, url));
  }
  std::string password;
  for (PQconninfoOption* o = options; o->keyword; ++o)
    if (std::strcmp(o->keyword, "password") == 0 && o->val) password = o->val;
  PQconninfoFree(options);

  auto db = std::make_unique<PostgresDatabase>(url, password, connections);
  auto first = db->Acquire();
  if (!first) return first.error();
  db->Release(first.value());
  return std::unique_ptr<SqlDatabase>(std::move(db));
}

}  // namespace outpost::fleet
