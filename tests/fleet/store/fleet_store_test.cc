// Every FleetStore method, once per database: the same suite runs on SQLite (in memory) and on
// a PostgreSQL server started for the test program.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "fleet/store/fleet_store.h"
#include "fleet/store/schema.h"
#include "fleet/store/sql_database.h"
#include "tests/fleet/store/store_test_support.h"

namespace outpost::fleet {
namespace {

using testing::BackendName;
using testing::FreshDatabaseUrl;

// A device filter built field by field.
struct Filter : DeviceFilter {
  Filter& Group(const std::string& v) { return group = v, *this; }
  Filter& Tag(const std::string& v) { return tag = v, *this; }
  Filter& Model(const std::string& v) { return model = v, *this; }
  Filter& Version(const std::string& v) { return version = v, *this; }
  Filter& SeenSince(int64_t v) { return seen_since_ms = v, *this; }
  Filter& Limit(int64_t v) { return limit = v, *this; }
  Filter& Offset(int64_t v) { return offset = v, *this; }
};

class FleetStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto url = FreshDatabaseUrl(GetParam());
    ASSERT_TRUE(url.ok()) << url.message();
    url_ = url.value();
    auto store = FleetStore::Open(url_, 4);
    ASSERT_TRUE(store.ok()) << store.message();
    store_ = std::move(store.value());
  }

  FleetStore& s() { return *store_; }

  Device Enrolled(const std::string& id, const std::string& group, const std::vector<std::string>& tags,
                  int64_t now_ms = 1000) {
    const std::string token = "tok-" + id;
    EXPECT_TRUE(s().AddEnrollmentToken({token, group, tags, 0, 1, 0}).ok());
    Device d;
    d.id = id;
    d.name = "name-" + id;
    d.credential_hash = "cred-" + id;
    auto enrolled = s().Enroll(token, d, now_ms);
    EXPECT_TRUE(enrolled.ok()) << enrolled.message();
    return enrolled.ok() ? enrolled.value() : Device{};
  }

  static TelemetryRecord Record(const std::string& device, int64_t seq, int64_t time_ms, const std::string& version,
                                int64_t inferences, int64_t errors, double p99) {
    TelemetryRecord r;
    r.device_id = device;
    r.seq = seq;
    r.time_ms = time_ms;
    r.model = "m";
    r.version = version;
    r.inferences = inferences;
    r.errors = errors;
    r.latency_p50_ms = p99 / 2;
    r.latency_p99_ms = p99;
    r.body_json = R"({"seq":)" + std::to_string(seq) + "}";
    return r;
  }

  std::string url_;
  std::unique_ptr<FleetStore> store_;
};

TEST_P(FleetStoreTest, OpeningAgainKeepsTheSchemaAndData) {
  std::string url = url_;
  std::string file;
  if (GetParam() == "sqlite") {  // an in-memory database is private to its connection: use a file
    file = ::testing::TempDir() + "fleet_store_reopen_" + std::to_string(::getpid()) + ".db";
    std::remove(file.c_str());
    url = "sqlite:" + file;
    auto first = FleetStore::Open(url);
    ASSERT_TRUE(first.ok()) << first.message();
    store_ = std::move(first.value());
  }
  Enrolled("d-1", "g", {"t"});
  auto second = FleetStore::Open(url);
  ASSERT_TRUE(second.ok()) << second.message();
  auto found = second.value()->FindDevice("d-1");
  ASSERT_TRUE(found.ok()) << found.message();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(found->value().tags, std::vector<std::string>{"t"});
  auto version = second.value()->db().Execute("SELECT version FROM schema_version");
  ASSERT_TRUE(version.ok()) << version.message();
  ASSERT_EQ(version->rows.size(), 1u);
  EXPECT_EQ(version->rows[0].integer(0), kFleetSchemaVersion);
  if (!file.empty()) {
    store_.reset();
    second.value().reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((file + suffix).c_str());
  }
}

// A database a version-1 server wrote (its devices table has no public_key) is migrated when a
// newer server opens it: its devices keep their data with no key, new devices store theirs.
TEST_P(FleetStoreTest, MigratesAVersionOneDatabase) {
  std::string url, file;
  if (GetParam() == "sqlite") {
    file = ::testing::TempDir() + "fleet_store_v1_" + std::to_string(::getpid()) + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((file + suffix).c_str());
    url = "sqlite:" + file;
  } else {
    auto fresh = FreshDatabaseUrl(GetParam());
    ASSERT_TRUE(fresh.ok()) << fresh.message();
    url = fresh.value();
  }
  {
    auto db = OpenSqlDatabase(url, 1);
    ASSERT_TRUE(db.ok()) << db.message();
    for (const char* statement : {
             "CREATE TABLE schema_version (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
             "INSERT INTO schema_version (version, applied_ms) VALUES (1, 5)",
             "CREATE TABLE devices (id TEXT PRIMARY KEY, name TEXT NOT NULL, credential_hash TEXT NOT NULL, "
             "device_group TEXT NOT NULL, tags TEXT NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL, "
             "status_json TEXT NOT NULL, enrolled_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL)",
             "INSERT INTO devices VALUES ('d-old', 'old', 'cred-old', 'g', '[\"t\"]', 'm', '1.0.0', '{}', 7, 8)",
         }) {
      auto done = db.value()->Execute(statement);
      ASSERT_TRUE(done.ok()) << statement << ": " << done.message();
    }
  }
  for (int opening = 0; opening < 2; ++opening) {  // the second opening finds nothing to do
    auto store = FleetStore::Open(url);
    ASSERT_TRUE(store.ok()) << store.message();
    auto old = store.value()->FindDevice("d-old");
    ASSERT_TRUE(old.ok()) << old.message();
    ASSERT_TRUE(old->has_value());
    EXPECT_EQ(old->value().public_key, "");
    EXPECT_EQ(old->value().version, "1.0.0");
    EXPECT_EQ(old->value().last_seen_ms, 8);
    auto version = store.value()->db().Execute("SELECT MAX(version) FROM schema_version");
    ASSERT_TRUE(version.ok()) << version.message();
    EXPECT_EQ(version->rows.at(0).integer(0), kFleetSchemaVersion);
    if (opening == 0) {
      ASSERT_TRUE(store.value()->AddEnrollmentToken({"tok-new", "g", {}, 0, 1, 0}).ok());
      Device d;
      d.id = "d-new";
      d.name = "new";
      d.credential_hash = "cred-new";
      d.public_key = "hY3bC0cM0qvKdA7sRbxzVv+XW4pAZKQ9M1Lxmkkc0XY=";
      auto enrolled = store.value()->Enroll("tok-new", d, 9);
      ASSERT_TRUE(enrolled.ok()) << enrolled.message();
    }
    auto fresh = store.value()->FindDevice("d-new");
    ASSERT_TRUE(fresh.ok() && fresh->has_value());
    EXPECT_EQ(fresh->value().public_key, "hY3bC0cM0qvKdA7sRbxzVv+XW4pAZKQ9M1Lxmkkc0XY=");
  }
  if (!file.empty())
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((file + suffix).c_str());
}

TEST_P(FleetStoreTest, EnrollConsumesTokenUsesAndCopiesGroupAndTags) {
  ASSERT_TRUE(s().AddEnrollmentToken({"t2", "line-1", {"cam", "north"}, 10'000, 2, 0}).ok());
  EXPECT_FALSE(s().AddEnrollmentToken({"t2", "other", {}, 10'000, 2, 0}).ok()) << "duplicate token hash";
  Device d;
  d.id = "d-a";
  d.name = "host-a";
  d.credential_hash = "ca";
  auto a = s().Enroll("t2", d, 5000);
  ASSERT_TRUE(a.ok()) << a.message();
  EXPECT_EQ(a->group, "line-1");
  EXPECT_EQ(a->tags, (std::vector<std::string>{"cam", "north"}));
  EXPECT_EQ(a->enrolled_ms, 5000);
  EXPECT_EQ(a->status_json, "{}");
  d.id = "d-b";
  d.credential_hash = "cb";
  ASSERT_TRUE(s().Enroll("t2", d, 6000).ok());
  d.id = "d-c";
  d.credential_hash = "cc";
  auto used_up = s().Enroll("t2", d, 7000);
  ASSERT_FALSE(used_up.ok());
  EXPECT_NE(used_up.message().find("used up"), std::string::npos) << used_up.message();
  EXPECT_FALSE(s().FindDevice("d-c")->has_value()) << "a refused enrollment creates nothing";

  auto found = s().FindDeviceByCredential("cb");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(found->value().id, "d-b");
  EXPECT_EQ(found->value().name, "host-a");
  EXPECT_FALSE(s().FindDeviceByCredential("nope")->has_value());
}

TEST_P(FleetStoreTest, EnrollRefusesExpiredAndUnknownTokens) {
  ASSERT_TRUE(s().AddEnrollmentToken({"old", "g", {}, 1000, 5, 0}).ok());
  Device d;
  d.id = "d-x";
  d.credential_hash = "cx";
  auto expired = s().Enroll("old", d, 1000);
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.message().find("expired"), std::string::npos) << expired.message();
  EXPECT_TRUE(s().Enroll("old", d, 999).ok()) << "still valid one millisecond before";
  auto unknown = s().Enroll("never-issued", d, 0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("unknown"), std::string::npos) << unknown.message();
}

TEST_P(FleetStoreTest, EnrollIsOneTransaction) {
  Enrolled("d-1", "g", {});
  // A second device with the same credential is refused, and the token's use is given back.
  ASSERT_TRUE(s().AddEnrollmentToken({"one", "g", {}, 0, 1, 0}).ok());
  Device d;
  d.id = "d-2";
  d.credential_hash = "cred-d-1";
  EXPECT_FALSE(s().Enroll("one", d, 0).ok());
  d.credential_hash = "fresh";
  EXPECT_TRUE(s().Enroll("one", d, 0).ok()) << "the failed attempt did not consume the use";
}

TEST_P(FleetStoreTest, DeviceFiltersAreExact) {
  Enrolled("d-1", "line-1", {"cam"}, 1000);
  Enrolled("d-2", "line-1", {"camera", "x"}, 2000);
  Enrolled("d-3", "line-2", {"cam", "x"}, 3000);
  Enrolled("d-4", "line-10", {"\"cam\""}, 4000);
  auto ids = [&](DeviceFilter f) {
    std::vector<std::string> out;
    auto list = s().ListDevices(f);
    EXPECT_TRUE(list.ok()) << list.message();
    if (list.ok())
      for (const auto& d : list.value()) out.push_back(d.id);
    auto count = s().CountDevices(f);
    EXPECT_TRUE(count.ok());
    if (f.limit >= 1000 && f.offset == 0) {
      EXPECT_EQ(count.value(), static_cast<int64_t>(out.size()));
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({}), (V{"d-1", "d-2", "d-3", "d-4"}));
  EXPECT_EQ(ids(Filter().Group("line-1")), (V{"d-1", "d-2"}));
  EXPECT_EQ(ids(Filter().Tag("cam")), (V{"d-1", "d-3"})) << "not camera, not \"cam\"";
  EXPECT_EQ(ids(Filter().Tag("came")), V{});
  EXPECT_EQ(ids(Filter().Tag("\"cam\"")), V{"d-4"});
  EXPECT_EQ(ids(Filter().Group("line-2").Tag("x")), V{"d-3"});
  EXPECT_EQ(ids(Filter().SeenSince(2000)), (V{"d-2", "d-3", "d-4"}));
  EXPECT_EQ(ids(Filter().Limit(2)), (V{"d-1", "d-2"}));
  EXPECT_EQ(ids(Filter().Limit(2).Offset(2)), (V{"d-3", "d-4"}));
  EXPECT_EQ(ids(Filter().Limit(2).Offset(10)), V{});
  EXPECT_EQ(s().CountDevices(Filter().Tag("x").Limit(1)).value(), 2) << "a count ignores paging";

  ASSERT_TRUE(s().RecordDeviceReport("d-2", "m", "1.0", R"({"ok":true})", 9000).ok());
  EXPECT_EQ(ids(Filter().Model("m")), V{"d-2"});
  EXPECT_EQ(ids(Filter().Model("m").Version("1.0")), V{"d-2"});
  EXPECT_EQ(ids(Filter().Model("m").Version("2.0")), V{});
  ASSERT_TRUE(s().RecordDeviceReport("d-3", "m", "1.0", "{}", 9000).ok());
  ASSERT_TRUE(s().RecordDeviceReport("d-4", "m", "2.0", "{}", 9000).ok());
  using Counts = std::map<std::pair<std::string, std::string>, int64_t>;
  EXPECT_EQ(s().CountDevicesByVersion().value(), (Counts{{{"m", "1.0"}, 2}, {{"m", "2.0"}, 1}}))
      << "d-1 reports no model and is not counted";
  auto d2 = s().FindDevice("d-2").value().value();
  EXPECT_EQ(d2.last_seen_ms, 9000);
  EXPECT_EQ(d2.status_json, R"({"ok":true})");
  EXPECT_EQ(d2.version, "1.0");
  EXPECT_FALSE(s().RecordDeviceReport("d-none", "m", "1", "{}", 1).ok());

  ASSERT_TRUE(s().UpdateDeviceLabels("d-1", "line-3", {"x", "y", "x"}).ok());
  EXPECT_EQ(ids(Filter().Tag("cam")), V{"d-3"});
  EXPECT_EQ(ids(Filter().Tag("y")), V{"d-1"});
  EXPECT_EQ(s().FindDevice("d-1").value()->tags, (V{"x", "y"}));
  EXPECT_EQ(s().FindDevice("d-1").value()->group, "line-3");
  EXPECT_FALSE(s().UpdateDeviceLabels("d-none", "g", {}).ok());
}

TEST_P(FleetStoreTest, InjectionStringsAreStoredVerbatim) {
  const std::string evil = "x'); DROP TABLE devices;-- ? $1 \"q\" \\ é";
  ASSERT_TRUE(s().AddEnrollmentToken({evil, evil, {evil, "?"}, 0, 1, 0}).ok());
  Device d;
  d.id = "d-evil";
  d.name = evil;
  d.credential_hash = evil;
  ASSERT_TRUE(s().Enroll(evil, d, 1).ok());
  auto back = s().FindDeviceByCredential(evil);
  ASSERT_TRUE(back.ok()) << back.message();
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ(back->value().name, evil);
  EXPECT_EQ(back->value().group, evil);
  EXPECT_EQ(back->value().tags, (std::vector<std::string>{evil, "?"}));
  EXPECT_EQ(s().ListDevices(Filter().Tag(evil)).value().size(), 1u);
  EXPECT_EQ(s().ListDevices(Filter().Group(evil)).value().size(), 1u);
  EXPECT_EQ(s().CountDevices({}).value(), 1) << "the devices table is still there";
}

TEST_P(FleetStoreTest, ModelVersionsRefuseDuplicateVersionOrCounter) {
  ModelVersion v1{"det", "1.0.0", 1, "dig1", 100, "", R"({"a":1})", R"({"accuracy":0.9})", 10};
  ModelVersion v2{"det", "1.1.0", 2, "dig2", 200, "1.0.0", "{}", "{}", 20};
  ASSERT_TRUE(s().AddModelVersion(v1).ok());
  ASSERT_TRUE(s().AddModelVersion(v2).ok());
  auto same_version = s().AddModelVersion({"det", "1.0.0", 9, "dig9", 1, "", "{}", "{}", 30});
  ASSERT_FALSE(same_version.ok());
  EXPECT_NE(same_version.message().find("1.0.0"), std::string::npos) << same_version.message();
  auto same_counter = s().AddModelVersion({"det", "2.0.0", 2, "dig3", 1, "", "{}", "{}", 30});
  ASSERT_FALSE(same_counter.ok());
  EXPECT_NE(same_counter.message().find("counter"), std::string::npos) << same_counter.message();
  ASSERT_TRUE(s().AddModelVersion({"other", "1.0.0", 1, "dig4", 1, "", "{}", "{}", 40}).ok())
      << "versions and counters are per name";

  auto found = s().FindModelVersion("det", "1.1.0");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(found->value().parent, "1.0.0");
  EXPECT_EQ(found->value().size, 200);
  EXPECT_EQ(found->value().counter, 2);
  EXPECT_EQ(s().FindModelByDigest("dig1").value()->manifest_json, R"({"a":1})");
  EXPECT_EQ(s().FindModelByDigest("dig1").value()->figures_json, R"({"accuracy":0.9})");
  EXPECT_FALSE(s().FindModelByDigest("dig3").value().has_value());
  EXPECT_FALSE(s().FindModelVersion("det", "2.0.0").value().has_value());

  auto det = s().ListModelVersions("det").value();
  ASSERT_EQ(det.size(), 2u);
  EXPECT_EQ(det[0].version, "1.1.0") << "newest first";
  EXPECT_EQ(det[1].version, "1.0.0");
  EXPECT_EQ(s().ListModelVersions("").value().size(), 3u);
}

TEST_P(FleetStoreTest, SecondDeltaForAPairKeepsTheFirst) {
  auto first = s().AddDelta({"a", "b", "delta1", 10, 100});
  ASSERT_TRUE(first.ok()) << first.message();
  auto second = s().AddDelta({"a", "b", "delta2", 20, 200});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->digest, "delta1");
  EXPECT_EQ(second->size, 10);
  EXPECT_EQ(s().FindDelta("a", "b").value()->created_ms, 100);
  EXPECT_FALSE(s().FindDelta("b", "a").value().has_value());
}

TEST_P(FleetStoreTest, DesiredStateIsReplaced) {
  EXPECT_FALSE(s().GetDesiredState("d-1").value().has_value());
  ASSERT_TRUE(s().SetDesiredState({"d-1", "m", "1.0", "", 10}).ok());
  ASSERT_TRUE(s().SetDesiredState({"d-1", "m", "2.0", "r-1", 20}).ok());
  auto st = s().GetDesiredState("d-1").value().value();
  EXPECT_EQ(st.version, "2.0");
  EXPECT_EQ(st.rollout_id, "r-1");
  EXPECT_EQ(st.updated_ms, 20);
}

TEST_P(FleetStoreTest, TelemetryBatchesAreIdempotent) {
  std::vector<TelemetryRecord> batch;
  for (int64_t seq = 1; seq <= 250; ++seq) batch.push_back(Record("d-1", seq, seq * 10, "1.0", 10, 0, 5));
  auto first = s().InsertTelemetry(batch);
  ASSERT_TRUE(first.ok()) << first.message();
  EXPECT_EQ(first->inserted, 250);
  EXPECT_EQ(first->duplicates, 0);
  auto again = s().InsertTelemetry(batch);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->inserted, 0);
  EXPECT_EQ(again->duplicates, 250);

  // Overlapping: 241..260 (10 old, 10 new), plus a record repeated within the batch.
  std::vector<TelemetryRecord> overlap;
  for (int64_t seq = 241; seq <= 260; ++seq) overlap.push_back(Record("d-1", seq, seq * 10, "1.0", 10, 0, 5));
  overlap.push_back(Record("d-1", 260, 0, "1.0", 99, 0, 5));
  overlap.push_back(Record("d-2", 1, 0, "1.0", 1, 0, 5));
  auto third = s().InsertTelemetry(overlap);
  ASSERT_TRUE(third.ok()) << third.message();
  EXPECT_EQ(third->inserted, 11);
  EXPECT_EQ(third->duplicates, 11);
  EXPECT_EQ(s().CountTelemetry("d-1").value(), 260);
  EXPECT_EQ(s().CountTelemetry("").value(), 261);
  EXPECT_EQ(s().LastTelemetrySeq("d-1").value(), 260);
  EXPECT_EQ(s().LastTelemetrySeq("d-9").value(), 0);
  auto empty = s().InsertTelemetry({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->inserted + empty->duplicates, 0);
}

TEST_P(FleetStoreTest, IngestsAFleetsBatches) {
  // 100 devices send 100 records each in batches of 20, then the whole fleet is resent.
  constexpr int kDevices = 100, kRecords = 100, kBatch = 20;
  const auto start = std::chrono::steady_clock::now();
  int64_t inserted = 0, duplicates = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int d = 0; d < kDevices; ++d) {
      for (int first = 1; first <= kRecords; first += kBatch) {
        std::vector<TelemetryRecord> batch;
        for (int seq = first; seq < first + kBatch; ++seq)
          batch.push_back(Record("d-" + std::to_string(d), seq, seq * 1000, "1.0", 10, d % 2, d + seq / 100.0));
        auto counts = s().InsertTelemetry(batch);
        ASSERT_TRUE(counts.ok()) << counts.message();
        inserted += counts->inserted;
        duplicates += counts->duplicates;
      }
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(inserted, kDevices * kRecords);
  EXPECT_EQ(duplicates, kDevices * kRecords);
  auto h = s().VersionHealth("m", "1.0", 0, 1'000'000'000);
  ASSERT_TRUE(h.ok()) << h.message();
  EXPECT_EQ(h->devices, kDevices);
  EXPECT_EQ(h->records, kDevices * kRecords);
  EXPECT_EQ(h->errors, kDevices / 2 * kRecords);
  RecordProperty("records_per_second", static_cast<int>(2 * kDevices * kRecords / seconds));
  std::printf("%s: %d records (half of them resent) in %.2f s: %.0f records/s\n", GetParam().c_str(),
              2 * kDevices * kRecords, seconds, 2 * kDevices * kRecords / seconds);
}

TEST_P(FleetStoreTest, HealthFiguresMatchHandComputedValues) {
  auto r1 = Record("d1", 1, 1000, "2.0", 100, 1, 10);
  r1.agreement = 0.9, r1.drift_psi = 0.1, r1.temperature_c = 50;
  auto r2 = Record("d1", 2, 2000, "2.0", 200, 3, 20);
  r2.drift_psi = 0.3;
  auto r3 = Record("d2", 1, 1500, "2.0", 100, 0, 30);
  r3.agreement = 0.7, r3.temperature_c = 60;
  auto late = Record("d3", 1, 5000, "2.0", 1000, 1000, 1000);   // at until_ms: outside
  auto other = Record("d2", 2, 1600, "1.0", 50, 50, 5);          // another version
  other.drift_psi = 0.5;
  auto early = Record("d4", 1, 999, "2.0", 7, 7, 7);             // before since_ms
  ASSERT_TRUE(s().InsertTelemetry({r1, r2, r3, late, other, early}).ok());

  auto h = s().VersionHealth("m", "2.0", 1000, 5000);
  ASSERT_TRUE(h.ok()) << h.message();
  EXPECT_EQ(h->devices, 2);
  EXPECT_EQ(h->records, 3);
  EXPECT_EQ(h->inferences, 400);
  EXPECT_EQ(h->errors, 4);
  EXPECT_DOUBLE_EQ(h->error_rate, 0.01);
  EXPECT_DOUBLE_EQ(h->latency_p99_ms, 30);  // nearest rank: ceil(0.99 * 3) = 3rd of {10, 20, 30}
  ASSERT_TRUE(h->agreement.has_value());
  EXPECT_DOUBLE_EQ(*h->agreement, 0.8);
  ASSERT_TRUE(h->drift_psi.has_value());
  EXPECT_DOUBLE_EQ(*h->drift_psi, 0.2);
  ASSERT_TRUE(h->temperature_max_c.has_value());
  EXPECT_DOUBLE_EQ(*h->temperature_max_c, 60);

  auto d1 = s().VersionHealth("m", "2.0", 1000, 5000, {"d1"}).value();
  EXPECT_EQ(d1.devices, 1);
  EXPECT_EQ(d1.records, 2);
  EXPECT_DOUBLE_EQ(d1.error_rate, 4.0 / 300.0);
  EXPECT_DOUBLE_EQ(d1.latency_p99_ms, 20);
  EXPECT_DOUBLE_EQ(*d1.agreement, 0.9);
  EXPECT_DOUBLE_EQ(*d1.temperature_max_c, 50);

  auto none = s().VersionHealth("m", "3.0", 0, 10'000).value();
  EXPECT_EQ(none.records, 0);
  EXPECT_EQ(none.error_rate, 0);
  EXPECT_FALSE(none.agreement.has_value());
  EXPECT_FALSE(none.temperature_max_c.has_value());
}

TEST_P(FleetStoreTest, HealthP99IsTheNearestRankOverRecords) {
  std::vector<TelemetryRecord> batch;
  for (int64_t i = 1; i <= 100; ++i) batch.push_back(Record("d" + std::to_string(i % 7), i, 100, "1.0", 1, 0,
                                                           static_cast<double>(101 - i)));
  ASSERT_TRUE(s().InsertTelemetry(batch).ok());
  auto h = s().VersionHealth("m", "1.0", 0, 1000).value();
  EXPECT_EQ(h.records, 100);
  EXPECT_EQ(h.devices, 7);
  EXPECT_DOUBLE_EQ(h.latency_p99_ms, 99);  // 99th of 1..100
}

TEST_P(FleetStoreTest, SeriesBucketsPerVersion) {
  auto a = Record("d1", 1, 1000, "2.0", 1, 0, 10);
  a.drift_psi = 0.1;
  auto b = Record("d1", 2, 1500, "2.0", 1, 0, 30);
  auto c = Record("d2", 1, 1600, "1.0", 1, 0, 5);
  c.drift_psi = 0.5;
  auto d = Record("d1", 3, 2000, "2.0", 1, 0, 20);
  d.drift_psi = 0.3;
  auto e = Record("d1", 4, 5000, "2.0", 1, 0, 1000);
  auto f = Record("d4", 1, 999, "2.0", 1, 0, 7);
  auto old = Record("d5", 1, -5, "2.0", 1, 0, 1);  // before since_ms
  auto other_model = Record("d6", 1, 1000, "2.0", 1, 0, 1);
  other_model.model = "n";
  ASSERT_TRUE(s().InsertTelemetry({a, b, c, d, e, f, old, other_model}).ok());
  auto series = s().VersionSeries("m", 0, 1000);
  ASSERT_TRUE(series.ok()) << series.message();
  const auto& p = series.value();
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].bucket_ms, 0);
  EXPECT_EQ(p[0].version, "2.0");
  EXPECT_EQ(p[0].records, 1);
  EXPECT_DOUBLE_EQ(p[0].latency_p99_ms, 7);
  EXPECT_FALSE(p[0].drift_psi.has_value());
  EXPECT_EQ(p[1].bucket_ms, 1000);
  EXPECT_EQ(p[1].version, "1.0");
  EXPECT_DOUBLE_EQ(*p[1].drift_psi, 0.5);
  EXPECT_EQ(p[2].bucket_ms, 1000);
  EXPECT_EQ(p[2].version, "2.0");
  EXPECT_EQ(p[2].records, 2);
  EXPECT_DOUBLE_EQ(p[2].latency_p99_ms, 30);
  EXPECT_DOUBLE_EQ(*p[2].drift_psi, 0.1);
  EXPECT_EQ(p[3].bucket_ms, 2000);
  EXPECT_DOUBLE_EQ(*p[3].drift_psi, 0.3);
  EXPECT_EQ(p[4].bucket_ms, 5000);
  EXPECT_DOUBLE_EQ(p[4].latency_p99_ms, 1000);
  EXPECT_FALSE(s().VersionSeries("m", 0, 0).ok());
}

Rollout MakeRollout(const std::string& id, int64_t created_ms) {
  Rollout r;
  r.id = id;
  r.model = "m";
  r.version = "2.0";
  r.baseline_version = "1.0";
  r.group = "g";
  r.plan_json = R"({"stages":[1,10,100]})";
  r.stage_started_ms = created_ms;
  r.created_ms = created_ms;
  r.updated_ms = created_ms;
  return r;
}

TEST_P(FleetStoreTest, RolloutCompareAndSet) {
  ASSERT_TRUE(s().AddRollout(MakeRollout("r-1", 100)).ok());
  EXPECT_FALSE(s().AddRollout(MakeRollout("r-1", 100)).ok());
  auto moved = s().UpdateRollout("r-1", RolloutState::kRunning, 0, RolloutState::kRunning, 1, "gate passed", 200);
  ASSERT_TRUE(moved.ok()) << moved.message();
  EXPECT_TRUE(moved.value());
  auto stale = s().UpdateRollout("r-1", RolloutState::kRunning, 0, RolloutState::kHalted, 0, "late", 300);
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale.value()) << "expected stage 0 is stale";
  EXPECT_FALSE(s().UpdateRollout("r-1", RolloutState::kPaused, 1, RolloutState::kRunning, 1, "x", 300).value())
      << "expected state is stale";
  EXPECT_FALSE(s().UpdateRollout("r-none", RolloutState::kRunning, 1, RolloutState::kPaused, 1, "x", 300).value());
  auto r = s().FindRollout("r-1").value().value();
  EXPECT_EQ(r.stage, 1);
  EXPECT_EQ(r.state, RolloutState::kRunning);
  EXPECT_EQ(r.reason, "gate passed");
  EXPECT_EQ(r.stage_started_ms, 200);
  EXPECT_EQ(r.updated_ms, 200);
  EXPECT_EQ(r.plan_json, R"({"stages":[1,10,100]})");

  // Pausing keeps the stage's start time.
  ASSERT_TRUE(s().UpdateRollout("r-1", RolloutState::kRunning, 1, RolloutState::kPaused, 1, "manual pause", 400).value());
  r = s().FindRollout("r-1").value().value();
  EXPECT_EQ(r.state, RolloutState::kPaused);
  EXPECT_EQ(r.stage_started_ms, 200);
  EXPECT_EQ(r.updated_ms, 400);

  ASSERT_TRUE(s().AddRollout(MakeRollout("r-2", 500)).ok());
  ASSERT_TRUE(s().UpdateRollout("r-2", RolloutState::kRunning, 0, RolloutState::kCompleted, 0, "done", 600).value());
  auto all = s().ListRollouts(false).value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "r-2") << "newest first";
  auto active = s().ListRollouts(true).value();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].id, "r-1");
  EXPECT_FALSE(s().FindRollout("r-none").value().has_value());
}

TEST_P(FleetStoreTest, RolloutMembersJoinOnceAndRevert) {
  const Rollout r = MakeRollout("r-1", 100);
  ASSERT_TRUE(s().AddRollout(r).ok());
  ASSERT_TRUE(s().SetDesiredState({"d-1", "m", "1.0", "", 50}).ok());
  auto joined = s().AddRolloutMembers(r, {{"r-1", "d-1", 0, "1.0", 110}, {"r-1", "d-2", 0, "", 110}});
  ASSERT_TRUE(joined.ok()) << joined.message();
  EXPECT_EQ(joined.value(), 2);
  EXPECT_EQ(s().GetDesiredState("d-1").value()->version, "2.0");
  EXPECT_EQ(s().GetDesiredState("d-1").value()->rollout_id, "r-1");
  EXPECT_EQ(s().GetDesiredState("d-2").value()->version, "2.0");

  // d-1 again is skipped (its stage and previous version are kept); d-3 joins at stage 1.
  ASSERT_TRUE(s().SetDesiredState({"d-3", "m", "1.0", "", 50}).ok());
  EXPECT_EQ(s().AddRolloutMembers(r, {{"r-1", "d-1", 1, "2.0", 120}, {"r-1", "d-3", 1, "1.0", 120}}).value(), 1);
  auto members = s().ListRolloutMembers("r-1").value();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].device_id, "d-1");
  EXPECT_EQ(members[0].stage, 0);
  EXPECT_EQ(members[0].previous_version, "1.0");
  EXPECT_EQ(members[2].device_id, "d-3");
  EXPECT_EQ(members[2].stage, 1);

  // An operator moves d-3 elsewhere by hand: the rollback leaves it there.
  ASSERT_TRUE(s().SetDesiredState({"d-3", "m", "3.0", "", 130}).ok());
  auto reverted = s().RevertRolloutMembers(r, 200);
  ASSERT_TRUE(reverted.ok()) << reverted.message();
  EXPECT_EQ(reverted.value(), 2);
  auto d1 = s().GetDesiredState("d-1").value().value();
  EXPECT_EQ(d1.version, "1.0");
  EXPECT_EQ(d1.updated_ms, 200);
  EXPECT_FALSE(s().GetDesiredState("d-2").value().has_value()) << "it ran nothing before";
  EXPECT_EQ(s().GetDesiredState("d-3").value()->version, "3.0");
  EXPECT_EQ(s().RevertRolloutMembers(r, 300).value(), 0) << "a second rollback changes nothing";
}

TEST_P(FleetStoreTest, AlertsOpenOncePerRuleAndSubject) {
  ASSERT_TRUE(s().AddAlertRule({"a-1", "latency", R"({"metric":"latency_p99_ms"})", true, 10}).ok());
  ASSERT_TRUE(s().AddAlertRule({"a-2", "errors", "{}", false, 20}).ok());
  EXPECT_FALSE(s().AddAlertRule({"a-1", "dup", "{}", true, 30}).ok());
  auto rules = s().ListAlertRules().value();
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_TRUE(rules[0].enabled);
  EXPECT_FALSE(rules[1].enabled);
  EXPECT_EQ(rules[0].rule_json, R"({"metric":"latency_p99_ms"})");

  auto opened = s().OpenAlert({"al-1", "a-1", "m@2.0", "p99 over 50 ms", 61.5, 100, 0, false});
  ASSERT_TRUE(opened.ok()) << opened.message();
  ASSERT_TRUE(opened->has_value());
  EXPECT_EQ(opened->value().id, "al-1");
  auto again = s().OpenAlert({"al-2", "a-1", "m@2.0", "still", 70, 110, 0, false});
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_FALSE(again->has_value()) << "one open alert per rule and subject";
  EXPECT_TRUE(s().OpenAlert({"al-3", "a-1", "fleet", "x", 1, 120, 0, false}).value().has_value());
  EXPECT_TRUE(s().OpenAlert({"al-4", "a-2", "m@2.0", "x", 1, 130, 0, false}).value().has_value());
  EXPECT_EQ(s().ListAlerts(true).value().size(), 3u);

  ASSERT_TRUE(s().MarkAlertDelivered("al-1").ok());
  ASSERT_TRUE(s().ResolveAlert("al-1", 200).ok());
  ASSERT_TRUE(s().ResolveAlert("al-1", 300).ok());
  EXPECT_FALSE(s().ResolveAlert("al-none", 300).ok());
  EXPECT_FALSE(s().MarkAlertDelivered("al-none").ok());
  auto reopened = s().OpenAlert({"al-5", "a-1", "m@2.0", "again", 80, 400, 0, false});
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(reopened->has_value()) << "resolving frees the subject";

  auto open = s().ListAlerts(true).value();
  ASSERT_EQ(open.size(), 3u);
  EXPECT_EQ(open[0].id, "al-5") << "newest first";
  auto all = s().ListAlerts(false).value();
  ASSERT_EQ(all.size(), 4u);
  const auto first = std::find_if(all.begin(), all.end(), [](const Alert& a) { return a.id == "al-1"; });
  ASSERT_NE(first, all.end());
  EXPECT_EQ(first->resolved_ms, 200) << "the first resolution is kept";
  EXPECT_TRUE(first->delivered);
  EXPECT_DOUBLE_EQ(first->value, 61.5);
  EXPECT_EQ(s().ListAlerts(false, 2).value().size(), 2u);

  EXPECT_TRUE(s().DeleteAlertRule("a-2").value());
  EXPECT_FALSE(s().DeleteAlertRule("a-2").value());
  EXPECT_EQ(s().ListAlertRules().value().size(), 1u);
}

TEST_P(FleetStoreTest, TransferTotalsPerKind) {
  ASSERT_TRUE(s().RecordTransfer({"d-1", "package", 1000, 10}).ok());
  ASSERT_TRUE(s().RecordTransfer({"d-1", "package", 3'000'000'000, 20}).ok());
  ASSERT_TRUE(s().RecordTransfer({"d-1", "poll", 100, 30}).ok());
  ASSERT_TRUE(s().RecordTransfer({"d-2", "delta", 50, 40}).ok());
  ASSERT_TRUE(s().RecordTransfer({"d-2", "poll", 7, 50}).ok());  // at until_ms: outside
  using Totals = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(s().TransferTotals("", 0, 50).value(), (Totals{{"delta", 50}, {"package", 3'000'001'000}, {"poll", 100}}));
  EXPECT_EQ(s().TransferTotals("d-1", 15, 100).value(), (Totals{{"package", 3'000'000'000}, {"poll", 100}}));
  EXPECT_EQ(s().TransferTotals("d-3", 0, 100).value(), Totals{});
}

TEST_P(FleetStoreTest, RolloutStateNamesRoundTrip) {
  for (auto state : {RolloutState::kRunning, RolloutState::kPaused, RolloutState::kCompleted, RolloutState::kHalted,
                     RolloutState::kAborted})
    EXPECT_EQ(ParseRolloutState(RolloutStateName(state)).value(), state);
  EXPECT_FALSE(ParseRolloutState("Running").ok());
}

INSTANTIATE_TEST_SUITE_P(Databases, FleetStoreTest, ::testing::Values("sqlite", "postgresql"), BackendName);

}  // namespace
}  // namespace outpost::fleet
