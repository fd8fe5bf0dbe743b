// Differential updates of packages: a last-layer retrain of a zoo model costs at most 5% of the
// package, the rebuilt package is the new one bit for bit (plain and encrypted), and a delta
// for another base, a wrong key or a rebuilt package whose signature fails are refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "package/keys.h"
#include "package/pack.h"
#include "package/package_delta.h"
#include "package/package_file.h"
#include "tests/io/test_models.h"
#include "tests/package/package_fixtures.h"
#include "tests/package/retrained_variants.h"

namespace outpost::package {
namespace {

using testing::TestSigningPair;

PackOptions Options(const std::string& version, const std::optional<Key>& fleet = std::nullopt) {
  PackOptions o;
  o.version = version;
  o.created = "2026-01-02T03:04:05Z";
  o.fleet_key = fleet;
  return o;
}

// fashion_cnn as compiled from the zoo, and with its last layer retrained.
struct ZooPair {
  std::vector<uint8_t> old_model, new_model;
};

const ZooPair& FashionCnnPair() {
  static const ZooPair pair = [] {
    const std::string onnx = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/fashion_cnn/model.onnx";
    const std::string retrained = (std::filesystem::temp_directory_path() /
                                   ("pkg_delta_last_" + std::to_string(::getpid()) + ".onnx"))
                                      .string();
    ZooPair p;
    p.old_model = testing::CompileForDelta(onnx).value();
    testing::WriteRetrainedOnnx(onnx, testing::Retrain::kLastLayer, retrained).value();
    p.new_model = testing::CompileForDelta(retrained).value();
    std::filesystem::remove(retrained);
    return p;
  }();
  return pair;
}

TEST(PackageDelta, ALastLayerRetrainCostsAtMostFivePercentOfThePackage) {
  const KeyPair k = TestSigningPair();
  const std::vector<uint8_t> old_pkg = PackModel(FashionCnnPair().old_model, k.secret, Options("1.0.0")).value();
  const std::vector<uint8_t> new_pkg = PackModel(FashionCnnPair().new_model, k.secret, Options("1.1.0")).value();
  Expected<std::vector<uint8_t>> delta = MakePackageDelta(old_pkg, new_pkg, k.public_key);
  ASSERT_TRUE(delta.ok()) << delta.message();
  const double ratio = static_cast<double>(delta->size()) / static_cast<double>(new_pkg.size());
  std::printf("fashion_cnn last layer: package %zu bytes, delta %zu bytes (%.2f%%)\n",
              new_pkg.size(), delta->size(), 100.0 * ratio);
  EXPECT_LE(ratio, 0.05);

  Expected<PatchedPackage> patched = ApplyPackageDelta(old_pkg, *delta, k.public_key);
  ASSERT_TRUE(patched.ok()) << patched.message();
  EXPECT_TRUE(patched->bytes == new_pkg) << "the rebuilt package differs from the new one";
  EXPECT_EQ(patched->unpacked.package.manifest.version, "1.1.0");
  EXPECT_TRUE(patched->unpacked.model == FashionCnnPair().new_model);
}

TEST(PackageDelta, EncryptedPackagesAreRebuiltBitForBit) {
  const KeyPair k = TestSigningPair();
  const Key fleet = GenerateFleetKey();
  const std::vector<uint8_t> old_pkg =
      PackModel(FashionCnnPair().old_model, k.secret, Options("1.0.0", fleet)).value();
  const std::vector<uint8_t> new_pkg =
      PackModel(FashionCnnPair().new_model, k.secret, Options("1.1.0", fleet)).value();
  EXPECT_EQ(MakePackageDelta(old_pkg, new_pkg, k.public_key).message(),
            "package: the model is encrypted: give a decryption key");
  Expected<std::vector<uint8_t>> delta = MakePackageDelta(old_pkg, new_pkg, k.public_key, &fleet);
  ASSERT_TRUE(delta.ok()) << delta.message();
  // Tensors are diffed as plaintext: the delta stays small although every ciphertext byte changed.
  EXPECT_LE(static_cast<double>(delta->size()) / static_cast<double>(new_pkg.size()), 0.05);
  Expected<PatchedPackage> patched = ApplyPackageDelta(old_pkg, *delta, k.public_key, &fleet);
  ASSERT_TRUE(patched.ok()) << patched.message();
  EXPECT_TRUE(patched->bytes == new_pkg);
  const Key other_fleet = GenerateFleetKey();
  EXPECT_NE(ApplyPackageDelta(old_pkg, *delta, k.public_key, &other_fleet).message().find("fleet key"),
            std::string::npos);
}

TEST(PackageDelta, ADeltaForAnotherBaseIsRefused) {
  const KeyPair k = TestSigningPair();
  const std::vector<uint8_t> a = PackModel(FashionCnnPair().old_model, k.secret, Options("1.0.0")).value();
  const std::vector<uint8_t> b = PackModel(FashionCnnPair().new_model, k.secret, Options("1.1.0")).value();
  const std::vector<uint8_t> other =
      PackModel(testing::TinyClassifierOpm(), k.secret, Options("0.9.0")).value();
  const std::vector<uint8_t> delta = MakePackageDelta(a, b, k.public_key).value();
  const std::string why = ApplyPackageDelta(other, delta, k.public_key).message();
  EXPECT_NE(why.find("made for another base model"), std::string::npos) << why;
}

TEST(PackageDelta, PackagesThatDoNotVerifyAreRefused) {
  const KeyPair k = TestSigningPair();
  const KeyPair stranger = TestSigningPair(9);
  const std::vector<uint8_t> a = PackModel(FashionCnnPair().old_model, k.secret, Options("1.0.0")).value();
  const std::vector<uint8_t> b = PackModel(FashionCnnPair().new_model, stranger.secret, Options("1.1.0")).value();
  // Diffing needs both packages to verify with the one key.
  EXPECT_FALSE(MakePackageDelta(a, b, k.public_key).ok());
  // A correctly formed delta whose rebuilt package carries a bad signature: refused, and
  // nothing is handed out.
  std::vector<uint8_t> good = PackModel(FashionCnnPair().new_model, k.secret, Options("1.1.0")).value();
  PackageParts parts = SplitPackage(good).value();
  parts.after_payload[5] ^= 0x40;  // inside the Ed25519 signature
  std::vector<uint8_t> envelope(8);
  for (int i = 0; i < 8; ++i) envelope[i] = static_cast<uint8_t>(parts.before_payload.size() >> (8 * i));
  envelope.insert(envelope.end(), parts.before_payload.begin(), parts.before_payload.end());
  envelope.insert(envelope.end(), parts.after_payload.begin(), parts.after_payload.end());
  const std::vector<uint8_t> forged =
      MakeModelDelta(FashionCnnPair().old_model, FashionCnnPair().new_model, envelope).value();
  const std::string why = ApplyPackageDelta(a, forged, k.public_key).message();
  EXPECT_EQ(why.rfind("package delta: the rebuilt package does not verify: package: ", 0), 0u) << why;
  // The old package itself must verify too.
  EXPECT_FALSE(ApplyPackageDelta(a, forged, stranger.public_key).ok());
}

}  // namespace
}  // namespace outpost::package
