// The SQL driver itself: placeholders, values both ways, transactions, the pool, error text.
#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <thread>

#include "fleet/store/postgres_database.h"
#include "fleet/store/sql_database.h"
#include "tests/fleet/store/store_test_support.h"

namespace outpost::fleet {
namespace {

TEST(RewritePlaceholders, NumbersMarksOutsideLiteralsAndComments) {
  EXPECT_EQ(RewritePlaceholders("SELECT ?, '?', \"a?\", 'it''s ?', ? -- ?\n, ?"),
            "SELECT $1, '?', \"a?\", 'it''s ?', $2 -- ?\n, $3");
  EXPECT_EQ(RewritePlaceholders("INSERT INTO t VALUES (?,?)"), "INSERT INTO t VALUES ($1,$2)");
  EXPECT_EQ(RewritePlaceholders("SELECT 'unterminated ?"), "SELECT 'unterminated ?");
}

TEST(SqlRow, AccessorsConvert) {
  SqlRow row{{std::monostate{}, int64_t{42}, 2.5, std::string("17"), std::string("1.5e3"), std::string("x")}};
  EXPECT_TRUE(row.is_null(0));
  EXPECT_EQ(row.integer(0), 0);
  EXPECT_EQ(row.real(0), 0);
  EXPECT_EQ(row.text(0), "");
  EXPECT_EQ(row.integer(1), 42);
  EXPECT_EQ(row.real(1), 42.0);
  EXPECT_EQ(row.text(1), "42");
  EXPECT_EQ(row.integer(2), 2);
  EXPECT_EQ(row.text(2), "2.5");
  EXPECT_EQ(row.integer(3), 17);
  EXPECT_EQ(row.real(3), 17.0);
  EXPECT_EQ(row.integer(4), 1500);
  EXPECT_EQ(row.integer(5), 0);
  EXPECT_THROW(row.integer(6), std::out_of_range);
}

TEST(OpenSqlDatabase, RefusesUnknownSchemes) {
  auto db = OpenSqlDatabase("mysql://root:hunter2@localhost/x");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.message().find("hunter2"), std::string::npos) << db.message();
}

TEST(OpenSqlDatabase, PostgresErrorsNeverShowThePassword) {
  // Nothing listens on port 1: the connection fails after the URI was parsed.
  auto db = OpenSqlDatabase("postgresql://postgres:s3cr3t-pw@127.0.0.1:1/fleet?connect_timeout=2");
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.message().find("cannot connect to PostgreSQL"), std::string::npos) << db.message();
  EXPECT_EQ(db.message().find("s3cr3t-pw"), std::string::npos) << db.message();
  auto bad = OpenSqlDatabase("postgresql://postgres:s3cr3t-pw@127.0.0.1:1/fleet?nonsense=1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message().find("s3cr3t-pw"), std::string::npos) << bad.message();
}

TEST(OpenSqlDatabase, PostgresWrongPasswordIsAClearError) {
  auto base = testing::CreateTemporaryPostgresDatabase();
  ASSERT_TRUE(base.ok()) << base.message();
  auto db = OpenSqlDatabase(base.value() + "&user=nobody_here&password=s3cr3t-pw");
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.message().find("nobody_here"), std::string::npos) << db.message();
  EXPECT_EQ(db.message().find("s3cr3t-pw"), std::string::npos) << db.message();
}

// Two transactions that lock two rows in opposite orders: PostgreSQL aborts one (40P01) and
// the driver runs it again, so both succeed.
TEST(PostgresTransaction, DeadlockVictimIsRetried) {
  auto url = testing::CreateTemporaryPostgresDatabase();
  ASSERT_TRUE(url.ok()) << url.message();
  auto opened = OpenSqlDatabase(url.value(), 4);
  ASSERT_TRUE(opened.ok()) << opened.message();
  SqlDatabase& db = *opened.value();
  ASSERT_TRUE(db.Execute("CREATE TABLE t (k BIGINT PRIMARY KEY, v BIGINT NOT NULL)").ok());
  ASSERT_TRUE(db.Execute("INSERT INTO t (k, v) VALUES (1, 0), (2, 0)").ok());
  std::atomic<int> holding{0}, attempts{0};
  auto cross = [&](int64_t first, int64_t second) {
    return db.Transaction([&](SqlConnection& c) -> Expected<Unit> {
      ++attempts;
      if (auto r = c.Execute("UPDATE t SET v = v + 1 WHERE k = ?", {first}); !r) return r.error();
      ++holding;
      while (holding.load() < 2) std::this_thread::yield();  // until both hold their first row
      if (auto r = c.Execute("UPDATE t SET v = v + 1 WHERE k = ?", {second}); !r) return r.error();
      return Unit{};
    });
  };
  Expected<Unit> a = Error("not run"), b = Error("not run");
  std::thread other([&] { b = cross(2, 1); });
  a = cross(1, 2);
  other.join();
  EXPECT_TRUE(a.ok()) << a.message();
  EXPECT_TRUE(b.ok()) << b.message();
  EXPECT_EQ(attempts.load(), 3) << "one of the two ran twice";
  auto r = db.Execute("SELECT v FROM t ORDER BY k");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows.at(0).integer(0), 2);
  EXPECT_EQ(r->rows.at(1).integer(0), 2);
}

class SqlDatabaseTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto url = testing::FreshDatabaseUrl(GetParam());
    ASSERT_TRUE(url.ok()) << url.message();
    auto db = OpenSqlDatabase(url.value(), 2);
    ASSERT_TRUE(db.ok()) << db.message();
    db_ = std::move(db.value());
    auto made = db_->Execute("CREATE TABLE t (k BIGINT PRIMARY KEY, d DOUBLE PRECISION, s TEXT)");
    ASSERT_TRUE(made.ok()) << made.message();
  }
  std::unique_ptr<SqlDatabase> db_;
};

TEST_P(SqlDatabaseTest, ValuesRoundTripExactly) {
  EXPECT_EQ(db_->dialect(), GetParam());
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  const double third = 1.0 / 3.0;
  ASSERT_TRUE(db_->Execute("INSERT INTO t (k, d, s) VALUES (?, ?, ?)", {big, third, std::string("a'b\"c?")}).ok());
  ASSERT_TRUE(db_->Execute("INSERT INTO t (k, d, s) VALUES (?, ?, ?)", {small, SqlValue(), SqlValue()}).ok());
  auto r = db_->Execute("SELECT k, d, s FROM t ORDER BY k DESC");
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0].integer(0), big);
  EXPECT_EQ(r->rows[0].real(1), third);
  EXPECT_EQ(r->rows[0].text(2), "a'b\"c?");
  EXPECT_EQ(r->rows[1].integer(0), small);
  EXPECT_TRUE(r->rows[1].is_null(1));
  EXPECT_TRUE(r->rows[1].is_null(2));
  EXPECT_EQ(r->changed, 0);
}

TEST_P(SqlDatabaseTest, ChangedCountsRowsWritten) {
  auto ins = db_->Execute("INSERT INTO t (k, s) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  ASSERT_TRUE(ins.ok()) << ins.message();
  EXPECT_EQ(ins->changed, 3);
  EXPECT_EQ(db_->Execute("INSERT INTO t (k) VALUES (?), (?) ON CONFLICT DO NOTHING", {int64_t{3}, int64_t{4}})->changed, 1);
  EXPECT_EQ(db_->Execute("UPDATE t SET s = ? WHERE k >= ?", {std::string("z"), int64_t{2}})->changed, 3);
  EXPECT_EQ(db_->Execute("SELECT * FROM t")->changed, 0);
  EXPECT_EQ(db_->Execute("DELETE FROM t WHERE k = ?", {int64_t{9}})->changed, 0);
  auto returning = db_->Execute("DELETE FROM t WHERE k <= ? RETURNING k", {int64_t{2}});
  ASSERT_TRUE(returning.ok()) << returning.message();
  EXPECT_EQ(returning->rows.size(), 2u);
  EXPECT_EQ(returning->changed, 2);
}

TEST_P(SqlDatabaseTest, TransactionRollsBackOnErrorOrThrow) {
  auto failed = db_->Transaction([](SqlConnection& c) -> Expected<Unit> {
    if (auto r = c.Execute("INSERT INTO t (k) VALUES (1)"); !r) return r.error();
    return Error("changed my mind");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.message(), "changed my mind");
  auto thrown = db_->Transaction([](SqlConnection& c) -> Expected<Unit> {
    (void)c.Execute("INSERT INTO t (k) VALUES (2)");
    throw Error("thrown");
  });
  EXPECT_EQ(thrown.message(), "thrown");
  auto bad_sql = db_->Transaction([](SqlConnection& c) -> Expected<Unit> {
    (void)c.Execute("INSERT INTO t (k) VALUES (3)");
    auto r = c.Execute("INSERT INTO t (k) VALUES (3)");  // primary key
    if (!r) return r.error();
    return Unit{};
  });
  ASSERT_FALSE(bad_sql.ok());
  EXPECT_NE(bad_sql.message().find("database error"), std::string::npos) << bad_sql.message();
  EXPECT_EQ(db_->Execute("SELECT COUNT(*) FROM t")->rows.at(0).integer(0), 0);

  auto ok = db_->Transaction([](SqlConnection& c) -> Expected<Unit> {
    if (auto r = c.Execute("INSERT INTO t (k) VALUES (5)"); !r) return r.error();
    if (auto r = c.Execute("INSERT INTO t (k) VALUES (6)"); !r) return r.error();
    return Unit{};
  });
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_EQ(db_->Execute("SELECT COUNT(*) FROM t")->rows.at(0).integer(0), 2);
  EXPECT_FALSE(db_->Execute("SELEKT 1").ok());
  EXPECT_TRUE(db_->Execute("SELECT 1").ok()) << "the connection is usable after an error";
}

TEST_P(SqlDatabaseTest, ConcurrentTransactionsStayWithinThePool) {
  std::atomic<int> inside{0}, most{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto r = db_->Transaction([&](SqlConnection& c) -> Expected<Unit> {
          const int now = ++inside;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          auto ins = c.Execute("INSERT INTO t (k) VALUES (?)", {int64_t{t * 100 + i}});
          --inside;
          if (!ins) return ins.error();
          return Unit{};
        });
        if (!r) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(most.load(), GetParam() == "sqlite" ? 1 : 2);
  EXPECT_EQ(db_->Execute("SELECT COUNT(*) FROM t")->rows.at(0).integer(0), 120);
}

INSTANTIATE_TEST_SUITE_P(Databases, SqlDatabaseTest, ::testing::Values("sqlite", "postgresql"), testing::BackendName);

}  // namespace
}  // namespace outpost::fleet
