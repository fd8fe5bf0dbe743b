// Key files: modes, types, refusals.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "package/keys.h"
#include "tests/io/test_models.h"

namespace outpost::package {
namespace {

mode_t Mode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 0777;
}

TEST(KeysTest, SecretKeysAre0600AndRoundTrip) {
  const std::string dir = testing::MakeTempDir("keys_modes");
  const mode_t old = ::umask(0);  // even with a permissive umask
  const KeyPair p = GenerateSigningKeyPair();
  ASSERT_TRUE(WriteKeyFile(dir + "/s.key", p.secret).ok());
  ASSERT_TRUE(WriteKeyFile(dir + "/s.pub", p.public_key).ok());
  ::umask(old);
  EXPECT_EQ(Mode(dir + "/s.key"), 0600u);
  EXPECT_EQ(Mode(dir + "/s.pub"), 0644u);
  Expected<Key> back = ReadKeyFile(dir + "/s.key", {KeyType::kSigningSecret});
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(back->bytes(), p.secret.bytes());
  EXPECT_EQ(back->id(), p.public_key.id());
  // Never replaced.
  EXPECT_NE(WriteKeyFile(dir + "/s.key", GenerateFleetKey()).message().find("already exists"), std::string::npos);
  EXPECT_EQ(ReadKeyFile(dir + "/s.key", {KeyType::kSigningSecret})->bytes(), p.secret.bytes());
}

TEST(KeysTest, RefusesReadableSecretKeys) {
  const std::string dir = testing::MakeTempDir("keys_readable");
  ASSERT_TRUE(WriteKeyFile(dir + "/f.key", GenerateFleetKey()).ok());
  ASSERT_EQ(::chmod((dir + "/f.key").c_str(), 0640), 0);
  const std::string msg = ReadKeyFile(dir + "/f.key", {KeyType::kFleet}).message();
  EXPECT_NE(msg.find("readable by group or others"), std::string::npos) << msg;
}

TEST(KeysTest, RefusesWrongTypesAndBadFiles) {
  const std::string dir = testing::MakeTempDir("keys_bad");
  const KeyPair d = GenerateDeviceKeyPair();
  ASSERT_TRUE(WriteKeyFile(dir + "/d.pub", d.public_key).ok());
  EXPECT_NE(ReadKeyFile(dir + "/d.pub", {KeyType::kSigningPublic}).message().find("expected outpost-signing-public-key"),
            std::string::npos);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  EXPECT_NE(ReadKeyFile(write("a.pub", "hello\n"), {KeyType::kSigningPublic}).message().find("not an Outpost key file"),
            std::string::npos);
  EXPECT_NE(ReadKeyFile(write("b.pub", "outpost-signing-public-key\n!!!\n"), {KeyType::kSigningPublic})
                .message()
                .find("not valid base64"),
            std::string::npos);
  EXPECT_NE(ReadKeyFile(write("c.pub", "outpost-signing-public-key\nAAAA\n"), {KeyType::kSigningPublic})
                .message()
                .find("has 3 bytes"),
            std::string::npos);
  EXPECT_NE(ReadKeyFile(dir + "/none.pub", {KeyType::kSigningPublic}).message().find("cannot open"), std::string::npos);
}

TEST(KeysTest, KeyIdsNameThePublicHalfOnly) {
  const KeyPair d = GenerateDeviceKeyPair();
  EXPECT_EQ(d.secret.id(), d.public_key.id());
  EXPECT_EQ(DevicePublicKeyOf(d.secret).bytes(), d.public_key.bytes());
  const Key f = GenerateFleetKey();
  EXPECT_EQ(f.id().size(), 16u);
  EXPECT_NE(f.id(), GenerateFleetKey().id());
}

}  // namespace
}  // namespace outpost::package
