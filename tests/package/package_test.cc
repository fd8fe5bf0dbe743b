// Packing, verifying and unpacking: round trips (plain, fleet key, sealed to devices), the
// manifest's content, reproducible encryption, and SplitPackage/JoinPackage.
#include <gtest/gtest.h>

#include <cstring>

#include "package/codec.h"
#include "package/pack.h"
#include "package/package_file.h"
#include "package/package_header.h"
#include "package/unpack.h"
#include "package/verify.h"
#include "tests/io/test_models.h"
#include "tests/package/package_fixtures.h"

namespace outpost::package {
namespace {

using testing::TestSigningPair;
using testing::TinyClassifierOpm;

PackOptions Options(const std::string& version = "1.2.3") {
  PackOptions o;
  o.version = version;
  o.created = "2026-01-02T03:04:05Z";
  return o;
}

TEST(PackageTest, PlainRoundTripIsBitExact) {
  const KeyPair k = TestSigningPair();
  const std::vector<uint8_t> model = TinyClassifierOpm();
  PackOptions o = Options();
  o.targets = {"cortex-a53", "x86-64"};
  o.accuracy = 0.93;
  Expected<std::vector<uint8_t>> pkg = PackModel(model, k.secret, o);
  ASSERT_TRUE(pkg.ok()) << pkg.message();
  Expected<UnpackedModel> u = UnpackPackageBytes(*pkg, k.public_key, nullptr);
  ASSERT_TRUE(u.ok()) << u.message();
  EXPECT_EQ(u->model, model);
  const Manifest& m = u->package.manifest;
  EXPECT_EQ(m.name, "tiny_classifier");
  EXPECT_EQ(m.version, "1.2.3");
  EXPECT_EQ(m.counter, 1000002000003u);
  EXPECT_EQ(m.targets, o.targets);
  EXPECT_EQ(m.min_runtime, RuntimeVersion());
  EXPECT_EQ(m.model_bytes, model.size());
  EXPECT_EQ(m.signer, k.public_key.id());
  EXPECT_EQ(m.created, "2026-01-02T03:04:05Z");
  EXPECT_FALSE(m.encryption.has_value());
  ASSERT_EQ(m.tensors.size(), 3u);  // the bias and the self-test's two buffers
  EXPECT_EQ(m.tensors[0].tensor, "bias");
  EXPECT_EQ(m.figures.at("arena_bytes").value, 128);
  EXPECT_EQ(m.figures.at("arena_bytes").source, "model");
  EXPECT_EQ(m.figures.at("accuracy").value, 0.93);
  EXPECT_EQ(m.figures.at("accuracy").source, "command line");
  EXPECT_EQ(m.figures.count("latency_ms"), 0u);
}

TEST(PackageTest, ManifestIsCanonicalAndParsesBack) {
  const KeyPair k = TestSigningPair();
  const std::vector<uint8_t> pkg = PackModel(TinyClassifierOpm(), k.secret, Options()).value();
  const VerifiedPackage v = VerifyPackageBytes(pkg, k.public_key).value();
  EXPECT_EQ(CanonicalManifest(v.manifest), v.manifest_json);
  EXPECT_NE(ParseManifest(" " + v.manifest_json).message().find("not in canonical form"), std::string::npos);
  EXPECT_NE(ParseManifest(std::string(100000, '[')).message().find("nested too deeply"), std::string::npos);
  EXPECT_NE(ParseManifest("{}").message().find("missing field format"), std::string::npos);
}

TEST(PackageTest, FileAndMemoryVerificationAgree) {
  const KeyPair k = TestSigningPair();
  const std::vector<uint8_t> pkg = PackModel(TinyClassifierOpm(), k.secret, Options()).value();
  const std::string dir = testing::MakeTempDir("package_file_verify");
  testing::WriteBytes(dir + "/m.opk", pkg);
  Expected<VerifiedPackage> v = VerifyPackageFile(dir + "/m.opk", k.public_key);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v->manifest_json, VerifyPackageBytes(pkg, k.public_key)->manifest_json);
  Expected<UnpackedModel> u = UnpackPackageFile(dir + "/m.opk", k.public_key, nullptr, dir + "/m.opm");
  ASSERT_TRUE(u.ok()) << u.message();
  EXPECT_EQ(testing::ReadBytes(dir + "/m.opm"), TinyClassifierOpm());
  EXPECT_FALSE(VerifyPackageFile(dir + "/missing.opk", k.public_key).ok());
}

TEST(PackageTest, FleetEncryptedRoundTrip) {
  const KeyPair k = TestSigningPair();
  const Key fleet = GenerateFleetKey();
  PackOptions o = Options();
  o.fleet_key = fleet;
  const std::vector<uint8_t> model = TinyClassifierOpm();
  const std::vector<uint8_t> pkg = PackModel(model, k.secret, o).value();
  // The model is not readable in the package.
  EXPECT_EQ(std::search(pkg.begin(), pkg.end(), model.begin() + 64, model.begin() + 128), pkg.end());
  // Verification needs no decryption key; unpacking does.
  EXPECT_TRUE(VerifyPackageBytes(pkg, k.public_key).ok());
  EXPECT_NE(UnpackPackageBytes(pkg, k.public_key, nullptr).message().find("give a decryption key"),
            std::string::npos);
  Expected<UnpackedModel> u = UnpackPackageBytes(pkg, k.public_key, &fleet);
  ASSERT_TRUE(u.ok()) << u.message();
  EXPECT_EQ(u->model, model);
  EXPECT_EQ(u->package.manifest.encryption->fleet_key, fleet.id());
}

TEST(PackageTest, SealedToDevicesRoundTrip) {
  const KeyPair k = TestSigningPair();
  const KeyPair d1 = GenerateDeviceKeyPair(), d2 = GenerateDeviceKeyPair(), other = GenerateDeviceKeyPair();
  PackOptions o = Options();
  o.devices = {d1.public_key, d2.public_key};
  const std::vector<uint8_t> model = TinyClassifierOpm();
  const std::vector<uint8_t> pkg = PackModel(model, k.secret, o).value();
  for (const KeyPair* d : {&d1, &d2}) {
    Expected<UnpackedModel> u = UnpackPackageBytes(pkg, k.public_key, &d->secret);
    ASSERT_TRUE(u.ok()) << u.message();
    EXPECT_EQ(u->model, model);
  }
  EXPECT_NE(UnpackPackageBytes(pkg, k.public_key, &other.secret).message().find("not sealed to device key"),
            std::string::npos);
  const Key fleet = GenerateFleetKey();
  EXPECT_FALSE(UnpackPackageBytes(pkg, k.public_key, &fleet).ok());
}

TEST(PackageTest, EncryptionIsReproducibleWithTheStoredHeader) {
  const KeyPair k = TestSigningPair();
  PackOptions o = Options();
  o.fleet_key = GenerateFleetKey();
  const std::vector<uint8_t> model = TinyClassifierOpm();
  const std::vector<uint8_t> first = PackModel(model, k.secret, o).value();
  const Manifest m = VerifyPackageBytes(first, k.public_key)->manifest;
  const std::vector<uint8_t> header = FromBase64(m.encryption->stream_header).value();
  StreamHeader h;
  std::memcpy(h.data(), header.data(), h.size());
  ContentKey key;
  std::memcpy(key.data(), o.fleet_key->bytes().data(), key.size());
  // Re-encrypting the model with the same key and header gives the package's payload exactly.
  const PackageParts parts = SplitPackage(first).value();
  EXPECT_EQ(EncryptPayload(model, key, h), parts.payload);
  // A fresh random header gives another ciphertext.
  EXPECT_NE(EncryptPayload(model, key, RandomStreamHeader()), parts.payload);
  // And packing with that header again rebuilds the package bit for bit (Ed25519 is deterministic).
  o.stream_header = h;
  EXPECT_EQ(PackModel(model, k.secret, o).value(), first);
}

TEST(PackageTest, DecryptionStreamsAcrossManyChunks) {
  ContentKey key = RandomContentKey();
  const StreamHeader h = RandomStreamHeader();
  for (size_t n : {size_t{0}, size_t{1}, size_t{kChunkBytes}, size_t{kChunkBytes + 1}, size_t{3 * kChunkBytes + 5}}) {
    std::vector<uint8_t> plain(n);
    for (size_t i = 0; i < n; ++i) plain[i] = static_cast<uint8_t>(i * 31);
    std::vector<uint8_t> c = EncryptPayload(plain, key, h);
    EXPECT_EQ(c.size(), CiphertextBytes(n));
    EXPECT_EQ(DecryptPayload(c, key, h).value(), plain) << n;
    // Dropping the final chunk is detected even when what is left is a whole number of chunks.
    if (n > kChunkBytes) {
      c.resize(kChunkBytes + 17);
      EXPECT_NE(DecryptPayload(c, key, h).message().find("truncated"), std::string::npos);
    }
  }
}

TEST(PackageTest, SplitAndJoinAreInverse) {
  const KeyPair k = TestSigningPair();
  const std::vector<uint8_t> model = TinyClassifierOpm();
  const std::vector<uint8_t> pkg = PackModel(model, k.secret, Options()).value();
  Expected<PackageParts> parts = SplitPackage(pkg);
  ASSERT_TRUE(parts.ok()) << parts.message();
  EXPECT_EQ(parts->payload, model);
  EXPECT_EQ(parts->after_payload.size(), kSignatureBytes);
  EXPECT_EQ(JoinPackage(*parts), pkg);
  EXPECT_FALSE(SplitPackage(std::span<const uint8_t>(pkg).first(pkg.size() - 1)).ok());
}

TEST(PackageTest, VersionsAndCounters) {
  EXPECT_TRUE(IsSemanticVersion("1.0.0-rc.1+build.5"));
  for (const char* bad : {"1.0", "01.0.0", "1.0.0-", "v1.0.0", "1.0.0+", ""}) EXPECT_FALSE(IsSemanticVersion(bad)) << bad;
  EXPECT_EQ(CounterFromVersion("2.10.7+abc").value(), 2000010000007u);
  EXPECT_FALSE(CounterFromVersion("0.0.0").ok());
  EXPECT_FALSE(CounterFromVersion("1.0.0-beta").ok());
  EXPECT_FALSE(CounterFromVersion("1.1000000.0").ok());
  const KeyPair k = TestSigningPair();
  PackOptions o = Options("1.0.0-beta");
  EXPECT_NE(PackModel(TinyClassifierOpm(), k.secret, o).message().find("pre-release"), std::string::npos);
  o.counter = 42;
  EXPECT_EQ(VerifyPackageBytes(PackModel(TinyClassifierOpm(), k.secret, o).value(), k.public_key)->manifest.counter, 42u);
  o.counter = 0;
  EXPECT_FALSE(PackModel(TinyClassifierOpm(), k.secret, o).ok());
  EXPECT_FALSE(PackModel(TinyClassifierOpm(), k.secret, Options("1.2")).ok());
}

TEST(PackageTest, RefusesToPackACorruptModel) {
  const KeyPair k = TestSigningPair();
  std::vector<uint8_t> model = TinyClassifierOpm();
  model[model.size() - 1] ^= 1;  // inside the self-test's data: its content hash fails
  EXPECT_NE(PackModel(model, k.secret, Options()).message().find("content hash mismatch"), std::string::npos);
  EXPECT_FALSE(PackModel(std::vector<uint8_t>{1, 2, 3}, k.secret, Options()).ok());
}

}  // namespace
}  // namespace outpost::package
