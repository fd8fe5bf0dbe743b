// The update engine against a real fleet server: full and delta updates, every refusal
// (each keeps the running model and says why), health-window rollback, and a restart in
// every state.
#include <sys/mount.h>

#include <filesystem>
#include <fstream>

#include "agent/update/model_check.h"
#include "io/mapped_file.h"
#include "package/rollback_order.h"
#include "tests/agent/update/agent_fixture.h"
#include "tests/io/test_models.h"

namespace outpost::agent::testing {
namespace {

namespace fs = std::filesystem;

class UpdateEngineTest : public AgentTest {
 protected:
  // The running model is untouched: same slot, same version, still passing its self-test.
  void ExpectStillRunning(const std::string& version) {
    EXPECT_EQ(engine_->active_version(), version);
    EXPECT_TRUE(CheckModelFile(engine_->ActiveModelPath(), 1).ok());
    EXPECT_EQ(engine_->state(), UpdateState::kCheck);
    // A restart boots the same model.
    BootReport boot = Restart();
    EXPECT_EQ(boot.version, version);
    EXPECT_FALSE(boot.fell_back);
  }
  std::string LastEvent(const std::string& kind) {
    const auto& events = engine_->record().events;
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == kind) return it->version + ": " + it->reason;
    return "";
  }
  // Steps until the machine is in `state` (or rests).
  void StepTo(UpdateState state) {
    for (int i = 0; i < 16 && engine_->state() != state; ++i) ASSERT_TRUE(engine_->Step().ok()) << engine_->record().last_error;
    ASSERT_EQ(engine_->state(), state);
  }
  std::string PartPath(const nlohmann::json& entry) {
    return device_dir_ + "/download/" + entry["digest"].get<std::string>() + ".opk.part";
  }
};

TEST_P(UpdateEngineTest, FirstInstallThenUpdateByDeltaCommitsAndCleansUp) {
  Restart();
  Install("1.0.0");
  EXPECT_EQ(io::ReadTextFile(device_dir_ + "/active").value(), "a\n");
  EXPECT_NE(LastEvent("downloaded").find("package of"), std::string::npos);
  EXPECT_EQ(engine_->record().committed_version, "1.0.0");

  Register("1.1.0");
  SetDesired("1.1.0");
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.1.0") << engine_->record().last_error;
  EXPECT_EQ(io::ReadTextFile(device_dir_ + "/active").value(), "b\n");
  EXPECT_NE(LastEvent("downloaded").find("delta of"), std::string::npos) << LastEvent("downloaded");
  EXPECT_EQ(LastEvent("committed"), "1.1.0: ");
  EXPECT_EQ(engine_->record().highest_committed_counter, package::CounterFromVersion("1.1.0").value());
  EXPECT_TRUE(fs::is_empty(device_dir_ + "/download"));
  // The previous model stays in the other slot for a rollback.
  EXPECT_TRUE(CheckModelFile(device_dir_ + "/slots/a/model.opm", 1).ok());
  // The server saw the device report the new version.
  EXPECT_TRUE(engine_->Step().ok());
  EXPECT_EQ(Admin("GET", "/v1/devices/" + device_.id).json["version"], "1.1.0");
}

TEST_P(UpdateEngineTest, PackageSealedToTheDeviceIsDecryptedWithItsKey) {
  const package::KeyPair mine = package::GenerateDeviceKeyPair();
  const package::KeyPair other = package::GenerateDeviceKeyPair();
  device_secret_ = mine.secret;
  Restart();
  Register(PackageSpec{.version = "1.0.0", .sealed_to = {mine.public_key}});
  SetDesired("1.0.0");
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.0.0") << engine_->record().last_error;
  EXPECT_TRUE(CheckModelFile(engine_->ActiveModelPath(), 1).ok());
  // Sealed to another device: this one cannot open it, and says so.
  Register(PackageSpec{.version = "1.1.0", .sealed_to = {other.public_key}});
  SetDesired("1.1.0");
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_NE(LastEvent("refused").find("1.1.0: stage: "), std::string::npos) << LastEvent("refused");
  ExpectStillRunning("1.0.0");
}

TEST_P(UpdateEngineTest, PackageSignedWithAnotherKeyIsRefused) {
  trusted_key_ = outpost::testing::TestSigningPair(9).public_key;  // not the fleet's key
  Restart();
  Register("1.0.0");
  SetDesired("1.0.0");
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "");
  EXPECT_NE(LastEvent("refused").find("1.0.0: package: signature check failed: the package names signer key"), std::string::npos)
      << LastEvent("refused");
  EXPECT_EQ(engine_->record().failed_versions, std::vector<std::string>{"1.0.0"});
}

TEST_P(UpdateEngineTest, TamperedPackageIsRefusedAndTheModelKeepsRunning) {
  Restart();
  Install("1.0.0");
  const nlohmann::json entry = Register("1.1.0");
  SetDesired("1.1.0");
  StepTo(UpdateState::kVerify);
  const std::string path = device_dir_ + "/download/" + entry["digest"].get<std::string>() + ".opk";
  std::vector<uint8_t> bytes = outpost::testing::ReadBytes(path);
  bytes[bytes.size() / 2] ^= 0x40;
  outpost::testing::WriteBytes(path, bytes);
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_NE(LastEvent("refused").find("1.1.0: package: "), std::string::npos) << LastEvent("refused");
  EXPECT_FALSE(fs::exists(path));
  ExpectStillRunning("1.0.0");
  // A failed version is not retried in a loop; the reason is reported.
  EXPECT_EQ(engine_->RunUntilSettled().value(), UpdateState::kCheck);
  EXPECT_EQ(engine_->record().last_error, "version 1.1.0 failed on this device before; it is not retried");
}

TEST_P(UpdateEngineTest, ReplayedOlderVersionIsRefusedUnlessASignedOrderAllowsIt) {
  Restart();
  Install("1.0.0");
  Install("1.1.0");
  SetDesired("1.0.0");
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_NE(LastEvent("refused").find("package: version 1.0.0 has counter 1000000000000, not above the "
                                             "highest committed counter 1000001000000: refused as a downgrade or replay"),
            std::string::npos)
      << LastEvent("refused");
  ExpectStillRunning("1.1.0");

  // An order for another device does not help; one for this device does.
  package::RollbackOrder order{kModelName, "1.0.0", 1'000'000'000'000, "d-0000000000000000", now_ms_, now_ms_ + 60'000};
  EXPECT_FALSE(engine_->AcceptRollbackOrder(package::SignRollbackOrder(order, keys_.secret).value()).ok());
  order.device = device_.id;
  ASSERT_TRUE(engine_->AcceptRollbackOrder(package::SignRollbackOrder(order, keys_.secret).value()).ok());
  // The order also takes 1.0.0 off the failed list: an operator asked for it.
  EXPECT_TRUE(engine_->record().failed_versions.empty());
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.0.0") << LastEvent("refused");
  // Anti-rollback's high-water mark never goes down.
  EXPECT_EQ(engine_->record().highest_committed_counter, 1'000'001'000'000u);
}

TEST_P(UpdateEngineTest, PackagesForAnotherModelOrOtherTargetsAreRefused) {
  Restart();
  Install("1.0.0");
  Register(PackageSpec{.version = "1.1.0", .targets = {"gateway"}});
  SetDesired("1.1.0");
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(LastEvent("refused"), "1.1.0: package: targets [gateway] name none of this device's tags [camera]");
  ExpectStillRunning("1.0.0");

  fleet::testing::Reply r = Upload(DetectorPackage(PackageSpec{.version = "1.0.0", .name = "segmenter"}, keys_.secret));
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_EQ(Admin("PUT", "/v1/devices/" + device_.id + "/desired", {{"model", "segmenter"}, {"version", "1.0.0"}}).status, 200);
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(LastEvent("refused"), "1.0.0: the server wants model segmenter; this device runs detector");
  ExpectStillRunning("1.0.0");
}

TEST_P(UpdateEngineTest, FailingOrSlowSelfTestIsRefusedBeforeTheSwitch) {
  Restart();
  Install("1.0.0");
  Register(PackageSpec{.version = "1.1.0", .failing_self_test = true});
  SetDesired("1.1.0");
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_NE(LastEvent("refused").find("self-test: "), std::string::npos) << LastEvent("refused");
  EXPECT_NE(LastEvent("refused").find("self-test failed"), std::string::npos) << LastEvent("refused");
  EXPECT_TRUE(fs::is_empty(device_dir_ + "/slots/b"));  // the candidate is cleared
  ExpectStillRunning("1.0.0");

  Register(PackageSpec{.version = "1.2.0", .latency_ms = 1e-6});
  SetDesired("1.2.0");
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_NE(LastEvent("refused").find("is over the budget of 0.000 ms (the manifest's latency_ms"),
            std::string::npos)
      << LastEvent("refused");
  ExpectStillRunning("1.0.0");
  EXPECT_EQ(engine_->record().failed_versions, (std::vector<std::string>{"1.1.0", "1.2.0"}));
}

TEST_P(UpdateEngineTest, TruncatedDownloadResumesAndOversizedOrCorruptOnesAreRefused) {
  use_deltas_ = false;
  Restart();
  Install("1.0.0");
  const nlohmann::json entry = Register("1.1.0");
  const std::vector<uint8_t> full = DetectorPackage(PackageSpec{.version = "1.1.0"}, keys_.secret);
  ASSERT_EQ(full.size(), entry["size"].get<size_t>());
  SetDesired("1.1.0");
  ASSERT_TRUE(engine_->Step().ok());
  ASSERT_EQ(engine_->state(), UpdateState::kDownload);

  // A transfer cut at half left half the file: after a restart the download resumes there.
  outpost::testing::WriteBytes(PartPath(entry), std::vector<uint8_t>(full.begin(), full.begin() + full.size() / 2));
  Restart();
  ASSERT_EQ(engine_->state(), UpdateState::kDownload);
  ASSERT_TRUE(engine_->Step().ok()) << engine_->record().last_error;
  EXPECT_EQ(engine_->state(), UpdateState::kVerify);
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.1.0") << engine_->record().last_error;

  // A part file longer than the package: refused and removed, the model keeps running.
  const nlohmann::json e2 = Register("1.2.0");
  SetDesired("1.2.0");
  ASSERT_TRUE(engine_->Step().ok());
  outpost::testing::WriteBytes(PartPath(e2), std::vector<uint8_t>(e2["size"].get<size_t>() + 10, 1));
  EXPECT_TRUE(engine_->Step().ok());
  EXPECT_NE(engine_->record().last_error.find("refused: the file grew past the expected"), std::string::npos)
      << engine_->record().last_error;
  EXPECT_FALSE(fs::exists(PartPath(e2)));
  ExpectStillRunning("1.1.0");

  // Right size, wrong bytes: the digest refuses it.
  ASSERT_TRUE(engine_->Step().ok());
  outpost::testing::WriteBytes(PartPath(e2), std::vector<uint8_t>(e2["size"].get<size_t>(), 1));
  EXPECT_TRUE(engine_->Step().ok());
  EXPECT_NE(engine_->record().last_error.find("BLAKE2b digest"), std::string::npos) << engine_->record().last_error;
  ExpectStillRunning("1.1.0");
  // Neither is remembered as a failed version: the real download then goes through.
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.2.0") << engine_->record().last_error;
}

TEST_P(UpdateEngineTest, DiskFullWhileDownloadingIsRefused) {
  use_deltas_ = false;
  Restart();
  Install("1.0.0");
  const nlohmann::json entry = Register("1.1.0");
  SetDesired("1.1.0");
  ASSERT_TRUE(engine_->Step().ok());
  // Every write to the part file fails with ENOSPC, as on a full disk.
  fs::create_symlink("/dev/full", PartPath(entry));
  EXPECT_TRUE(engine_->Step().ok());
  EXPECT_NE(engine_->record().last_error.find("no space left on the device while writing"), std::string::npos)
      << engine_->record().last_error;
  EXPECT_NE(LastEvent("refused").find("1.1.0: fleet: download of"), std::string::npos) << LastEvent("refused");
  ExpectStillRunning("1.0.0");
  // The partial file is removed: the space goes back at once, and the next try starts clean.
  EXPECT_FALSE(fs::exists(fs::symlink_status(PartPath(entry))));

  // Free space below what the engine keeps free: refused before a byte is fetched.
  fs::remove(PartPath(entry));
  UpdateEngineOptions o = Options(device_dir_);
  o.min_free_bytes = uint64_t{1} << 62;
  engine_.reset();
  engine_ = UpdateEngine::Open(o, client_agent_.get()).value();
  ASSERT_TRUE(engine_->Boot().ok());
  EXPECT_EQ(engine_->RunUntilSettled().value(), UpdateState::kCheck);
  EXPECT_NE(engine_->record().last_error.find("refused: no space left on the device"), std::string::npos)
      << engine_->record().last_error;
  EXPECT_EQ(engine_->active_version(), "1.0.0");
}

TEST_P(UpdateEngineTest, DiskFullWhileStagingIsRefused) {
  // A real full filesystem: a small tmpfs holds the device directory (needs mount rights).
  const std::string mnt = dir_ + "/small";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k") != 0) GTEST_SKIP() << "cannot mount a tmpfs here";
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  device_dir_ = mnt + "/device";
  Restart();
  Install("1.0.0");
  Register("1.1.0");
  SetDesired("1.1.0");
  StepTo(UpdateState::kStage);
  {
    std::ofstream fill(mnt + "/filler", std::ios::binary);
    const std::vector<char> block(4096, 0);
    while (fill.write(block.data(), block.size())) {}
  }
  EXPECT_TRUE(engine_->Step().ok());
  EXPECT_NE(engine_->record().last_error.find("No space left on device"), std::string::npos)
      << engine_->record().last_error;
  EXPECT_EQ(engine_->active_version(), "1.0.0");
  EXPECT_TRUE(CheckModelFile(engine_->ActiveModelPath(), 1).ok());
  // Space comes back: the update goes through.
  fs::remove(mnt + "/filler");
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.1.0") << engine_->record().last_error;
  engine_.reset();
}

TEST_P(UpdateEngineTest, FailingHealthWindowRollsBackToThePreviousModel) {
  Restart();
  Install("1.0.0");
  for (int i = 0; i < 50; ++i) engine_->RecordInference(true, 0.5);  // the baseline
  Register("1.1.0");
  SetDesired("1.1.0");
  EXPECT_EQ(Update(/*failing=*/true), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.0.0");
  EXPECT_EQ(io::ReadTextFile(device_dir_ + "/active").value(), "a\n");
  EXPECT_EQ(LastEvent("rolled_back"),
            "1.1.0: health: error rate 1.000 over 10 inferences is above the allowed 0.020 (previous model 0.000)");
  EXPECT_EQ(engine_->record().failed_versions, std::vector<std::string>{"1.1.0"});
  EXPECT_EQ(engine_->record().highest_committed_counter, 1'000'000'000'000u);
  ExpectStillRunning("1.0.0");
  // Not retried.
  EXPECT_EQ(engine_->RunUntilSettled().value(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.0.0");
}

TEST_P(UpdateEngineTest, SlowerModelFailsTheHealthWindowOnLatency) {
  Restart();
  Install("1.0.0");
  for (int i = 0; i < 50; ++i) engine_->RecordInference(true, 1.0);
  Register("1.1.0");
  SetDesired("1.1.0");
  ASSERT_EQ(engine_->RunUntilSettled().value(), UpdateState::kHealth);
  for (int i = 0; i < 20; ++i) engine_->RecordInference(true, 5.0);
  now_ms_ += 1000;
  EXPECT_EQ(engine_->RunUntilSettled().value(), UpdateState::kCheck);
  EXPECT_NE(LastEvent("rolled_back").find("health: p99 latency"), std::string::npos) << LastEvent("rolled_back");
  EXPECT_EQ(engine_->active_version(), "1.0.0");
}

TEST_P(UpdateEngineTest, HealthCountsAreSavedAtMostOnceASecond) {
  Restart();
  Install("1.0.0");
  Register("1.1.0");
  SetDesired("1.1.0");
  ASSERT_EQ(engine_->RunUntilSettled().value(), UpdateState::kHealth);
  // Within the same second nothing is written: a crash loses these outcomes, not the flash.
  for (int i = 0; i < 300; ++i) engine_->RecordInference(true, 0.5);
  Restart();
  ASSERT_EQ(engine_->state(), UpdateState::kHealth);
  EXPECT_EQ(engine_->record().window.inferences, 0u);
  // A second later the next outcome saves all of them.
  for (int i = 0; i < 10; ++i) engine_->RecordInference(true, 0.5);
  now_ms_ += 1000;
  engine_->RecordInference(true, 0.5);
  Restart();
  EXPECT_EQ(engine_->record().window.inferences, 11u);
}

TEST_P(UpdateEngineTest, RestartInEveryStateResumesTheUpdate) {
  Restart();
  Install("1.0.0");
  int version = 1;
  for (UpdateState stop : {UpdateState::kDownload, UpdateState::kVerify, UpdateState::kStage, UpdateState::kSelfTest,
                           UpdateState::kSwitch, UpdateState::kHealth, UpdateState::kCommit}) {
    const std::string v = "1." + std::to_string(version++) + ".0";
    Register({v});
    SetDesired(v);
    if (stop == UpdateState::kCommit) {
      StepTo(UpdateState::kHealth);
      for (int i = 0; i < 10; ++i) engine_->RecordInference(true, 0.5);
      now_ms_ += 1000;
    }
    StepTo(stop);
    const BootReport boot = Restart();  // as after a kill: only the files remain
    EXPECT_EQ(engine_->state(), stop) << StateName(stop);
    EXPECT_FALSE(boot.fell_back);
    EXPECT_TRUE(CheckModelFile(engine_->ActiveModelPath(), 1).ok());
    EXPECT_EQ(Update(), UpdateState::kCheck) << StateName(stop);
    EXPECT_EQ(engine_->active_version(), v) << StateName(stop) << ": " << engine_->record().last_error;
  }
  // Stopped in rollback: the rollback completes.
  Register("1.9.0");
  SetDesired("1.9.0");
  StepTo(UpdateState::kHealth);
  for (int i = 0; i < 10; ++i) engine_->RecordInference(false, 0.5);
  now_ms_ += 1000;
  StepTo(UpdateState::kRollback);
  Restart();
  EXPECT_EQ(engine_->state(), UpdateState::kRollback);
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.7.0");
  EXPECT_EQ(engine_->record().failed_versions, std::vector<std::string>{"1.9.0"});
}

TEST_P(UpdateEngineTest, BootFallsBackToTheOtherSlotWhenTheActiveModelIsBroken) {
  Restart();
  Install("1.0.0");
  Install("1.1.0");
  // The active model is damaged on disk (a bad flash block, a tampered file).
  std::vector<uint8_t> opm = outpost::testing::ReadBytes(device_dir_ + "/slots/b/model.opm");
  opm[opm.size() - 8] ^= 0xff;
  outpost::testing::WriteBytes(device_dir_ + "/slots/b/model.opm", opm);
  const BootReport boot = Restart();
  EXPECT_TRUE(boot.fell_back);
  EXPECT_EQ(boot.slot, "a");
  EXPECT_EQ(boot.version, "1.0.0");
  EXPECT_NE(boot.reason.find("slot b does not hold a working model"), std::string::npos) << boot.reason;
  EXPECT_EQ(io::ReadTextFile(device_dir_ + "/active").value(), "a\n");
}

TEST_P(UpdateEngineTest, UnreachableServerIsAnErrorThatChangesNothing) {
  Restart();
  Install("1.0.0");
  FleetClientOptions o;
  o.server_url = "http://127.0.0.1:1";
  o.connect_timeout_ms = 500;
  std::unique_ptr<FleetClient> dead = FleetClient::Create(o).value();
  engine_.reset();
  engine_ = UpdateEngine::Open(Options(device_dir_), dead.get()).value();
  ASSERT_TRUE(engine_->Boot().ok());
  Expected<UpdateState> s = engine_->Step();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "fleet: cannot reach http://127.0.0.1:1: connection refused");
  EXPECT_EQ(engine_->state(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.0.0");
  engine_.reset();
}

// The fleet server signs the order itself (--rollback-key) when it sends a device back to a
// lower version; the device trusts that key for orders only, not for packages.
class ServerRollbackOrderTest : public UpdateEngineTest {
 protected:
  void Adjust(fleet::FleetServerOptions& o) override {
    ASSERT_TRUE(package::WriteKeyFile(dir_ + "/rollback.key", order_keys_.secret).ok());
    o.rollback_key_file = dir_ + "/rollback.key";
    rollback_public_ = order_keys_.public_key;
  }
  package::KeyPair order_keys_ = outpost::testing::TestSigningPair(42);
};

TEST_P(ServerRollbackOrderTest, ADowngradeFromTheServerIsInstalledWithItsOrder) {
  Restart();
  Install("1.0.0");
  Install("1.1.0");
  SetDesired("1.0.0");
  EXPECT_EQ(Update(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.0.0") << engine_->record().last_error;
  EXPECT_EQ(engine_->record().highest_committed_counter, 1'000'001'000'000u);
}

// The version a rollback leaves was judged bad by the fleet; a bad model can be a faster one
// (here 1.1.0 answered in 0.5 ms). The version the device goes back to is slower, and must
// not fail its health window for that and be swapped back for the bad one.
TEST_P(ServerRollbackOrderTest, AnOrderedRollbackIsNotJudgedAgainstTheVersionItLeaves) {
  Restart();
  Install("1.0.0");
  Install("1.1.0");
  for (int i = 0; i < 50; ++i) engine_->RecordInference(true, 0.5);
  SetDesired("1.0.0");
  ASSERT_EQ(engine_->RunUntilSettled().value(), UpdateState::kHealth) << engine_->record().last_error;
  EXPECT_FALSE(engine_->record().baseline.has_value());
  for (int i = 0; i < 20; ++i) engine_->RecordInference(true, 5.0);
  now_ms_ += 1000;
  EXPECT_EQ(engine_->RunUntilSettled().value(), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.0.0") << engine_->record().last_error;
  EXPECT_EQ(LastEvent("rolled_back"), "");
}

// An ordered rollback is still held to the absolute error-rate limit.
TEST_P(ServerRollbackOrderTest, AnOrderedRollbackThatFailsIsUndone) {
  Restart();
  Install("1.0.0");
  Install("1.1.0");
  SetDesired("1.0.0");
  EXPECT_EQ(Update(/*failing=*/true), UpdateState::kCheck);
  EXPECT_EQ(engine_->active_version(), "1.1.0");
  EXPECT_NE(LastEvent("rolled_back").find("health: error rate 1.000"), std::string::npos)
      << LastEvent("rolled_back");
}

TEST_P(ServerRollbackOrderTest, AnOrderSignedWithThePackageKeyIsNotEnough) {
  Restart();
  Install("1.0.0");
  Install("1.1.0");
  package::RollbackOrder order{kModelName, "1.0.0", 1'000'000'000'000, device_.id, now_ms_, now_ms_ + 60'000};
  Expected<Unit> accepted = engine_->AcceptRollbackOrder(package::SignRollbackOrder(order, keys_.secret).value());
  ASSERT_FALSE(accepted.ok());
  EXPECT_NE(accepted.message().find("rollback order: signed by key"), std::string::npos) << accepted.message();
}

INSTANTIATE_TEST_SUITE_P(Databases, ServerRollbackOrderTest, ::testing::Values("sqlite"), fleet::testing::BackendName);

INSTANTIATE_TEST_SUITE_P(Databases, UpdateEngineTest, ::testing::Values("sqlite"), fleet::testing::BackendName);

}  // namespace
}  // namespace outpost::agent::testing
