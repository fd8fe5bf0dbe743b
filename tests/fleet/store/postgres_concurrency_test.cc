// Several server processes on one PostgreSQL database, modelled as several FleetStore objects
// (each with its own connection pool) used from several threads at once.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fleet/store/fleet_store.h"
#include "tests/fleet/store/postgres_fixture.h"

namespace outpost::fleet {
namespace {

Rollout NewRollout(const std::string& id) {
  Rollout r;
  r.id = id;
  r.model = "m";
  r.version = "2";
  return r;
}

// Opens two stores on one new database at the same moment: both create the schema.
void OpenTwo(std::unique_ptr<FleetStore>* a, std::unique_ptr<FleetStore>* b) {
  auto url = testing::CreateTemporaryPostgresDatabase();
  ASSERT_TRUE(url.ok()) << url.message();
  Expected<std::unique_ptr<FleetStore>> first = Error("not opened"), second = Error("not opened");
  std::thread other([&] { second = FleetStore::Open(url.value(), 4); });
  first = FleetStore::Open(url.value(), 4);
  other.join();
  ASSERT_TRUE(first.ok()) << first.message();
  ASSERT_TRUE(second.ok()) << second.message();
  *a = std::move(first.value());
  *b = std::move(second.value());
}

TEST(PostgresConcurrency, SchemaCreationRaceSucceeds) {
  for (int i = 0; i < 3; ++i) {
    std::unique_ptr<FleetStore> a, b;
    OpenTwo(&a, &b);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(a->AddRollout(NewRollout("r-1")).ok());
    EXPECT_TRUE(b->FindRollout("r-1").value().has_value());
    auto versions = a->db().Execute("SELECT COUNT(*) FROM schema_version");
    EXPECT_EQ(versions->rows.at(0).integer(0), 1);
  }
}

TEST(PostgresConcurrency, OverlappingTelemetryLosesAndRepeatsNothing) {
  std::unique_ptr<FleetStore> a, b;
  OpenTwo(&a, &b);
  if (HasFatalFailure()) return;
  // Store a writes seq 1..600 in order; store b writes 301..900 from the top down, so the two
  // cross in the middle with their rows in opposite orders. Two threads per store.
  auto batch = [](int64_t from, int64_t to) {
    std::vector<TelemetryRecord> out;
    for (int64_t s = from; s <= to; ++s)
      for (const char* device : {"d-1", "d-2"}) {
        TelemetryRecord r;
        r.device_id = device;
        r.seq = s;
        r.time_ms = s;
        r.model = "m";
        r.version = "1";
        r.inferences = 1;
        out.push_back(r);
      }
    return out;
  };
  std::atomic<int64_t> inserted{0}, duplicates{0};
  std::atomic<int> failures{0};
  auto run = [&](FleetStore* store, std::vector<std::pair<int64_t, int64_t>> ranges) {
    for (auto [from, to] : ranges) {
      auto counts = store->InsertTelemetry(batch(from, to));
      if (!counts.ok()) {
        ++failures;
        ADD_FAILURE() << counts.message();
        continue;
      }
      inserted += counts->inserted;
      duplicates += counts->duplicates;
    }
  };
  std::vector<std::pair<int64_t, int64_t>> up, down;
  for (int64_t s = 1; s <= 600; s += 50) up.emplace_back(s, s + 49);
  for (int64_t s = 900; s > 300; s -= 50) down.emplace_back(s - 49, s);
  // Each range is also sent twice (a retried batch), from the other thread of the same store.
  std::vector<std::thread> threads;
  threads.emplace_back(run, a.get(), up);
  threads.emplace_back(run, a.get(), up);
  threads.emplace_back(run, b.get(), down);
  threads.emplace_back(run, b.get(), down);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  // 2 devices x 900 distinct seqs; sent 2 x (2 x 600 + 2 x 600) records.
  EXPECT_EQ(inserted.load(), 1800);
  EXPECT_EQ(inserted.load() + duplicates.load(), 4 * 1200);
  EXPECT_EQ(a->CountTelemetry("").value(), 1800);
  EXPECT_EQ(b->CountTelemetry("d-2").value(), 900);
  auto distinct = a->db().Execute("SELECT COUNT(DISTINCT seq), MIN(seq), MAX(seq) FROM telemetry WHERE device_id = ?",
                                  {std::string("d-1")});
  EXPECT_EQ(distinct->rows.at(0).integer(0), 900);
  EXPECT_EQ(distinct->rows.at(0).integer(1), 1);
  EXPECT_EQ(distinct->rows.at(0).integer(2), 900);
}

TEST(PostgresConcurrency, ExactlyOneCompareAndSetWins) {
  std::unique_ptr<FleetStore> a, b;
  OpenTwo(&a, &b);
  if (HasFatalFailure()) return;
  for (int round = 0; round < 5; ++round) {
    const std::string id = "r-" + std::to_string(round);
    ASSERT_TRUE(a->AddRollout(NewRollout(id)).ok());
    std::atomic<int> wins{0}, failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      FleetStore* store = t % 2 ? a.get() : b.get();
      threads.emplace_back([&, store, t] {
        auto won = store->UpdateRollout(id, RolloutState::kRunning, 0, RolloutState::kRunning, 1,
                                        "advanced by " + std::to_string(t), 100 + t);
        if (!won.ok()) ++failures;
        else if (won.value()) ++wins;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(wins.load(), 1);
    auto r = b->FindRollout(id).value().value();
    EXPECT_EQ(r.stage, 1);
    EXPECT_EQ(r.reason, "advanced by " + std::to_string(r.updated_ms - 100));
  }
}

TEST(PostgresConcurrency, TokenUsesAndOpenAlertsHoldUnderRaces) {
  std::unique_ptr<FleetStore> a, b;
  OpenTwo(&a, &b);
  if (HasFatalFailure()) return;
  ASSERT_TRUE(a->AddEnrollmentToken({"tok", "g", {}, 0, 3, 0}).ok());
  std::atomic<int> enrolled{0}, opened{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    FleetStore* store = t % 2 ? a.get() : b.get();
    threads.emplace_back([&, store, t] {
      Device d;
      d.id = "d-" + std::to_string(t);
      d.credential_hash = "c-" + std::to_string(t);
      if (store->Enroll("tok", d, 1).ok()) ++enrolled;
      auto alert = store->OpenAlert({"al-" + std::to_string(t), "rule", "fleet", "m", 1, 1, 0, false});
      if (alert.ok() && alert->has_value()) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(enrolled.load(), 3);
  EXPECT_EQ(a->CountDevices({}).value(), 3);
  EXPECT_EQ(opened.load(), 1);
  EXPECT_EQ(b->ListAlerts(true).value().size(), 1u);
}

}  // namespace
}  // namespace outpost::fleet
