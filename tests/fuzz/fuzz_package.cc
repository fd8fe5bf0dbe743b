// libFuzzer target: arbitrary bytes as a package. Each input goes through SplitPackage and a
// full unpack (verify, decrypt, check, load) as it is; then, since a mutated input almost never
// carries a valid signature, once more re-signed with the fuzzer's key, so the code behind the
// signature check (manifest parser, decryption, model checks) sees mutated data too. Any crash,
// sanitizer report or hang is a bug.
#include <sodium.h>

#include <cstring>

#include "package/package_file.h"
#include "package/package_header.h"
#include "package/unpack.h"
#include "tests/fuzz/package_fuzz_keys.h"

namespace {

using namespace outpost;

const package::KeyPair& Signer() {
  static const package::KeyPair k = fuzz::FuzzSigningPair();
  return k;
}

void Unpack(std::span<const uint8_t> bytes) {
  static const package::Key fleet = fuzz::FuzzFleetKey();
  static const package::KeyPair device = fuzz::FuzzDevicePair();
  // Alternate the decryption key so both key kinds are exercised.
  const package::Key* key = bytes.size() % 2 ? &fleet : &device.secret;
  (void)package::UnpackPackageBytes(bytes, Signer().public_key, key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  (void)package::SplitPackage(bytes);
  Unpack(bytes);
  if (size < package::kHeaderBytes + package::kSignatureBytes) return 0;
  std::vector<uint8_t> resigned(data, data + size);
  crypto_sign_state st;
  crypto_sign_init(&st);
  crypto_sign_update(&st, resigned.data(), size - package::kSignatureBytes);
  crypto_sign_final_create(&st, resigned.data() + size - package::kSignatureBytes, nullptr,
                           Signer().secret.bytes().data());
  Unpack(resigned);
  return 0;
}
