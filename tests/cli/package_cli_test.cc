// outpost keygen / pack / verify / unpack end to end: key file modes, bit-exact round trips
// (plain, fleet key, sealed to a device), and refusals with one error line.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_expect.h"
#include "tests/cli/cli_runner.h"
#include "tests/io/test_models.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

unsigned Mode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class PackageCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    model_ = dir_ + "/model.opm";
    WriteBytes(model_, TinyClassifierOpm());
    ExpectOk(RunOutpost({"keygen", "-o", dir_ + "/sign"}));
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string P(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_, model_;
};

TEST_F(PackageCliTest, KeygenWritesSecretKeys0600AndNeverPrintsThem) {
  ExpectOk(RunOutpost({"keygen", "-o", P("dev"), "--device"}));
  const CliResult fleet = RunOutpost({"keygen", "-o", P("fleet"), "--fleet"});
  ExpectOk(fleet);
  for (const char* f : {"sign.key", "dev.key", "fleet.key"}) EXPECT_EQ(Mode(P(f)), 0600u) << f;
  for (const char* f : {"sign.pub", "dev.pub"}) EXPECT_EQ(Mode(P(f)), 0644u) << f;
  EXPECT_FALSE(fs::exists(P("fleet.pub")));
  // The base64 line of the secret key appears in no output.
  std::ifstream in(P("fleet.key"));
  std::string type, b64;
  std::getline(in, type);
  std::getline(in, b64);
  EXPECT_EQ(type, "outpost-fleet-key");
  EXPECT_EQ(fleet.out.find(b64), std::string::npos);
  EXPECT_EQ(fleet.err.find(b64), std::string::npos);
  // An existing key is never replaced.
  ExpectError(RunOutpost({"keygen", "-o", P("fleet"), "--fleet"}), "already exists");
  ExpectError(RunOutpost({"keygen", "-o", P("x"), "--fleet", "--device"}), "exclude each other", 2);
}

TEST_F(PackageCliTest, PackVerifyUnpackRoundTripIsBitExact) {
  ExpectOk(RunOutpost({"pack", model_, "--key", P("sign.key"), "--version", "2.1.0", "-o", P("m.opk"),
                       "--target", "cortex-a53", "--target", "x86-64", "--latency-ms", "1.5"}));
  const CliResult v = RunOutpost({"verify", P("m.opk"), "--key", P("sign.pub")});
  ExpectOk(v);
  EXPECT_NE(v.out.find("version:     2.1.0 (counter 2000001000000)"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("cortex-a53, x86-64"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("latency_ms = 1.5 (command line)"), std::string::npos) << v.out;
  const CliResult j = RunOutpost({"verify", P("m.opk"), "--key", P("sign.pub"), "--json"});
  ExpectOk(j);
  const nlohmann::json manifest = nlohmann::json::parse(j.out);
  EXPECT_EQ(manifest["name"], "tiny_classifier");
  EXPECT_EQ(manifest["figures"]["arena_bytes"]["source"], "model");
  ExpectOk(RunOutpost({"unpack", P("m.opk"), "--key", P("sign.pub"), "-o", P("back.opm")}));
  EXPECT_EQ(ReadBytes(P("back.opm")), ReadBytes(model_));
}

TEST_F(PackageCliTest, EncryptedRoundTripsWithBothKeyKinds) {
  ExpectOk(RunOutpost({"keygen", "-o", P("dev"), "--device"}));
  ExpectOk(RunOutpost({"keygen", "-o", P("fleet"), "--fleet"}));
  ExpectOk(RunOutpost({"pack", model_, "--key", P("sign.key"), "--version", "1.0.0", "-o", P("f.opk"),
                       "--encrypt-fleet", P("fleet.key")}));
  ExpectOk(RunOutpost({"pack", model_, "--key", P("sign.key"), "--version", "1.0.0", "-o", P("d.opk"),
                       "--encrypt-for", P("dev.pub")}));
  // Verification needs no decryption key.
  ExpectOk(RunOutpost({"verify", P("f.opk"), "--key", P("sign.pub")}));
  ExpectOk(RunOutpost({"unpack", P("f.opk"), "--key", P("sign.pub"), "-o", P("f.opm"), "--decrypt", P("fleet.key")}));
  ExpectOk(RunOutpost({"unpack", P("d.opk"), "--key", P("sign.pub"), "-o", P("d.opm"), "--decrypt", P("dev.key")}));
  EXPECT_EQ(ReadBytes(P("f.opm")), ReadBytes(model_));
  EXPECT_EQ(ReadBytes(P("d.opm")), ReadBytes(model_));
  ExpectError(RunOutpost({"unpack", P("f.opk"), "--key", P("sign.pub"), "-o", P("x.opm")}), "give a decryption key");
  ExpectError(RunOutpost({"unpack", P("d.opk"), "--key", P("sign.pub"), "-o", P("x.opm"), "--decrypt", P("fleet.key")}),
              "not encrypted with a fleet key");
  ExpectOk(RunOutpost({"keygen", "-o", P("fleet2"), "--fleet"}));
  ExpectError(RunOutpost({"unpack", P("f.opk"), "--key", P("sign.pub"), "-o", P("x.opm"), "--decrypt", P("fleet2.key")}),
              "encrypted with fleet key");
  EXPECT_FALSE(fs::exists(P("x.opm")));
}

TEST_F(PackageCliTest, WrongKeyAndTamperedPackagesAreRefused) {
  ExpectOk(RunOutpost({"pack", model_, "--key", P("sign.key"), "--version", "1.0.0", "-o", P("m.opk")}));
  ExpectOk(RunOutpost({"keygen", "-o", P("other")}));
  ExpectError(RunOutpost({"verify", P("m.opk"), "--key", P("other.pub")}), "wrong key?");
  ExpectError(RunOutpost({"unpack", P("m.opk"), "--key", P("other.pub"), "-o", P("x.opm")}), "wrong key?");
  std::vector<uint8_t> bytes = ReadBytes(P("m.opk"));
  bytes[bytes.size() / 2] ^= 0x10;
  WriteBytes(P("t.opk"), bytes);
  ExpectError(RunOutpost({"verify", P("t.opk"), "--key", P("sign.pub")}), "modified after it was signed");
  ExpectError(RunOutpost({"unpack", P("t.opk"), "--key", P("sign.pub"), "-o", P("x.opm")}), "package:");
  EXPECT_FALSE(fs::exists(P("x.opm")));
  bytes = ReadBytes(P("m.opk"));
  bytes.resize(bytes.size() - 10);
  WriteBytes(P("short.opk"), bytes);
  ExpectError(RunOutpost({"verify", P("short.opk"), "--key", P("sign.pub")}), "truncated");
  // A secret key is not a public key, and a public key cannot sign.
  ExpectError(RunOutpost({"verify", P("m.opk"), "--key", P("sign.key")}), "expected outpost-signing-public-key");
  ExpectError(RunOutpost({"pack", model_, "--key", P("sign.pub"), "--version", "1.0.0", "-o", P("y.opk")}),
              "expected outpost-signing-secret-key");
}

TEST_F(PackageCliTest, BadArgumentsAreUsageErrors) {
  ExpectError(RunOutpost({"pack", model_, "--key", P("sign.key"), "--version", "1.0", "-o", P("y.opk")}),
              "not a semantic version", 2);
  ExpectError(RunOutpost({"pack", model_, "--key", P("sign.key"), "--version", "1.0.0", "--counter", "0", "-o",
                          P("y.opk")}),
              "--counter must be positive", 2);
  ExpectError(RunOutpost({"pack", model_, "--key", P("sign.key"), "--version", "1.0.0-rc.1", "-o", P("y.opk")}),
              "give the counter explicitly");
  ExpectOk(RunOutpost({"pack", model_, "--key", P("sign.key"), "--version", "1.0.0-rc.1", "--counter", "7", "-o",
                       P("y.opk")}));
  ASSERT_EQ(::chmod(P("sign.key").c_str(), 0644), 0);
  ExpectError(RunOutpost({"pack", model_, "--key", P("sign.key"), "--version", "1.0.0", "-o", P("z.opk")}),
              "readable by group or others");
  EXPECT_FALSE(fs::exists(P("z.opk")));
}

TEST_F(PackageCliTest, DiffAndPatchRebuildTheNewPackageBitForBit) {
  TinyModelOptions unlabelled;
  unlabelled.labels = false;
  WriteBytes(P("new.opm"), TinyClassifierOpm(unlabelled));
  ExpectOk(RunOutpost({"pack", model_, "--key", P("sign.key"), "--version", "1.0.0", "-o", P("old.opk")}));
  ExpectOk(RunOutpost({"pack", P("new.opm"), "--key", P("sign.key"), "--version", "1.0.1", "-o", P("new.opk")}));
  const CliResult diff =
      RunOutpost({"diff", P("old.opk"), P("new.opk"), "--key", P("sign.pub"), "-o", P("d.delta")});
  ExpectOk(diff);
  EXPECT_NE(diff.out.find("of the new package"), std::string::npos) << diff.out;
  const CliResult patch =
      RunOutpost({"patch", P("old.opk"), P("d.delta"), "--key", P("sign.pub"), "-o", P("rebuilt.opk")});
  ExpectOk(patch);
  EXPECT_NE(patch.out.find("1.0.1"), std::string::npos) << patch.out;
  EXPECT_EQ(ReadBytes(P("rebuilt.opk")), ReadBytes(P("new.opk")));

  // The delta applied to another base: refused, and no output file appears.
  ExpectError(RunOutpost({"patch", P("new.opk"), P("d.delta"), "--key", P("sign.pub"), "-o", P("x.opk")}),
              "made for another base model");
  EXPECT_FALSE(fs::exists(P("x.opk")));
  // A damaged delta: one clear reason, no output.
  std::vector<uint8_t> bad = ReadBytes(P("d.delta"));
  bad[bad.size() / 2] ^= 0x20;
  WriteBytes(P("bad.delta"), bad);
  ExpectError(RunOutpost({"patch", P("old.opk"), P("bad.delta"), "--key", P("sign.pub"), "-o", P("y.opk")}),
              "delta: ");
  EXPECT_FALSE(fs::exists(P("y.opk")));
  ExpectError(RunOutpost({"diff", P("old.opk"), P("new.opk"), "--key", P("sign.pub"), "-o", P("z"),
                          "--level", "40"}),
              "--level must be 1 to 22", 2);
}

}  // namespace
}  // namespace outpost::testing
