// Every kind of bad package is refused with one reason: flipped bytes anywhere, truncation at
// every length, trailing data, a wrong key, an unknown format version, a manifest that lies
// about the model (signed by the right key), a wrong decryption key, a damaged ciphertext.
#include <gtest/gtest.h>

#include <sodium.h>

#include <cstring>

#include "package/codec.h"
#include "package/pack.h"
#include "package/package_header.h"
#include "package/unpack.h"
#include "package/verify.h"
#include "tests/io/test_models.h"
#include "tests/package/package_fixtures.h"

namespace outpost::package {
namespace {

using testing::TestSigningPair;

std::vector<uint8_t> Pack(const KeyPair& k, const std::optional<Key>& fleet = std::nullopt) {
  PackOptions o;
  o.version = "1.0.0";
  o.fleet_key = fleet;
  return PackModel(testing::TinyClassifierOpm(), k.secret, o).value();
}

bool Contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

TEST(BadPackageTest, EveryFlippedByteIsRefused) {
  const KeyPair k = TestSigningPair();
  const Key fleet = GenerateFleetKey();
  for (const bool encrypted : {false, true}) {
    const std::vector<uint8_t> good = encrypted ? Pack(k, fleet) : Pack(k);
    ASSERT_TRUE(UnpackPackageBytes(good, k.public_key, &fleet).ok());
    for (size_t i = 0; i < good.size(); ++i)
      for (uint8_t mask : {0x01, 0x80}) {
        std::vector<uint8_t> bad = good;
        bad[i] ^= mask;
        Expected<VerifiedPackage> v = VerifyPackageBytes(bad, k.public_key);
        ASSERT_FALSE(v.ok()) << "byte " << i << " mask " << int(mask) << (encrypted ? " (encrypted)" : "");
        EXPECT_EQ(v.message().rfind("package: ", 0), 0u) << v.message();
        EXPECT_EQ(v.message().find('\n'), std::string::npos) << v.message();
        ASSERT_FALSE(UnpackPackageBytes(bad, k.public_key, &fleet).ok()) << "byte " << i;
      }
  }
}

TEST(BadPackageTest, EveryTruncationIsRefused) {
  const KeyPair k = TestSigningPair();
  const std::vector<uint8_t> good = Pack(k);
  for (size_t n = 0; n < good.size(); ++n) {
    Expected<VerifiedPackage> v =
        VerifyPackageBytes(std::span<const uint8_t>(good).first(n), k.public_key);
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_TRUE(Contains(v.message(), "truncated")) << n << ": " << v.message();
  }
}

TEST(BadPackageTest, TrailingDataIsRefused) {
  const KeyPair k = TestSigningPair();
  std::vector<uint8_t> bad = Pack(k);
  bad.push_back(0);
  EXPECT_TRUE(Contains(VerifyPackageBytes(bad, k.public_key).message(), "1 bytes of trailing data"));
}

TEST(BadPackageTest, WrongSigningKeyIsRefused) {
  const KeyPair k = TestSigningPair(), other = TestSigningPair(8);
  const std::vector<uint8_t> pkg = Pack(k);
  const std::string msg = VerifyPackageBytes(pkg, other.public_key).message();
  EXPECT_TRUE(Contains(msg, "signature check failed")) << msg;
  EXPECT_TRUE(Contains(msg, "wrong key?")) << msg;
  // A secret key is not a verification key.
  EXPECT_FALSE(VerifyPackageBytes(pkg, k.secret).ok());
}

TEST(BadPackageTest, UnknownFormatVersionIsRefused) {
  const KeyPair k = TestSigningPair();
  std::vector<uint8_t> bad = Pack(k);
  bad[8] = 2;  // format_major
  EXPECT_TRUE(Contains(VerifyPackageBytes(bad, k.public_key).message(), "format version 2.0, this reader reads 1.x"));
  // A newer minor version of the same major is read (the signature then fails: the header changed).
  bad = Pack(k);
  bad[10] = 7;
  EXPECT_TRUE(Contains(VerifyPackageBytes(bad, k.public_key).message(), "signature check failed"));
}

TEST(BadPackageTest, ManifestThatDoesNotMatchTheModelIsRefused) {
  const KeyPair k = TestSigningPair();
  const std::vector<uint8_t> model = testing::TinyClassifierOpm();
  const Manifest good = VerifyPackageBytes(Pack(k), k.public_key)->manifest;

  // Re-signed with the right key, but one tensor hash is wrong: verification (which checks the
  // whole model's hash) passes, unpacking names the tensor.
  Manifest m = good;
  m.tensors[0].blake2b = std::string(64, '0');
  std::vector<uint8_t> pkg = AssemblePackage(m, model, k.secret);
  ASSERT_TRUE(VerifyPackageBytes(pkg, k.public_key).ok());
  std::string msg = UnpackPackageBytes(pkg, k.public_key, nullptr).message();
  EXPECT_TRUE(Contains(msg, "does not match the manifest: content hash of buffer 0 ('bias')")) << msg;

  m = good;
  m.tensors.pop_back();
  msg = UnpackPackageBytes(AssemblePackage(m, model, k.secret), k.public_key, nullptr).message();
  EXPECT_TRUE(Contains(msg, "3 hashed buffers, the manifest lists 2")) << msg;

  m = good;
  m.model_blake2b = std::string(64, 'a');
  msg = VerifyPackageBytes(AssemblePackage(m, model, k.secret), k.public_key).message();
  EXPECT_TRUE(Contains(msg, "BLAKE2b-256 does not match the manifest")) << msg;

  m = good;
  m.model_bytes += 1;
  msg = VerifyPackageBytes(AssemblePackage(m, model, k.secret), k.public_key).message();
  EXPECT_TRUE(Contains(msg, "the manifest says")) << msg;

  m = good;
  m.signer = "0123456789abcdef";
  msg = VerifyPackageBytes(AssemblePackage(m, model, k.secret), k.public_key).message();
  EXPECT_TRUE(Contains(msg, "names signer 0123456789abcdef")) << msg;
}

TEST(BadPackageTest, WrongDecryptionKeyIsRefused) {
  const KeyPair k = TestSigningPair();
  const Key fleet = GenerateFleetKey(), other = GenerateFleetKey();
  const std::vector<uint8_t> pkg = Pack(k, fleet);
  const std::string msg = UnpackPackageBytes(pkg, k.public_key, &other).message();
  EXPECT_TRUE(Contains(msg, "encrypted with fleet key " + fleet.id())) << msg;
  const KeyPair device = GenerateDeviceKeyPair();
  EXPECT_TRUE(Contains(UnpackPackageBytes(pkg, k.public_key, &device.secret).message(), "not sealed to devices"));
}

TEST(BadPackageTest, DamagedCiphertextUnderAValidSignatureIsRefused) {
  // A signer who signs garbage: the signature holds, decryption must still refuse it.
  const KeyPair k = TestSigningPair();
  const Key fleet = GenerateFleetKey();
  const std::vector<uint8_t> pkg = Pack(k, fleet);
  const VerifiedPackage v = VerifyPackageBytes(pkg, k.public_key).value();
  std::vector<uint8_t> payload(pkg.begin() + static_cast<ptrdiff_t>(v.header.payload_offset()),
                               pkg.begin() + static_cast<ptrdiff_t>(v.header.signature_offset()));
  payload[payload.size() / 2] ^= 1;
  const std::vector<uint8_t> bad = AssemblePackage(v.manifest, payload, k.secret);
  ASSERT_TRUE(VerifyPackageBytes(bad, k.public_key).ok());
  const std::string msg = UnpackPackageBytes(bad, k.public_key, &fleet).message();
  EXPECT_TRUE(Contains(msg, "cannot decrypt the model")) << msg;
}

TEST(BadPackageTest, SignedGarbageModelIsRefusedByTheRuntimeVerifier) {
  const KeyPair k = TestSigningPair();
  std::vector<uint8_t> model = testing::TinyClassifierOpm();
  Manifest m = VerifyPackageBytes(Pack(k), k.public_key)->manifest;
  model[0] ^= 0xff;  // the .opm magic
  uint8_t digest[32];
  crypto_generichash(digest, sizeof(digest), model.data(), model.size(), nullptr, 0);
  m.model_blake2b = ToHex(digest);
  const std::string msg = UnpackPackageBytes(AssemblePackage(m, model, k.secret), k.public_key, nullptr).message();
  EXPECT_TRUE(Contains(msg, "package: model")) << msg;
}

}  // namespace
}  // namespace outpost::package
