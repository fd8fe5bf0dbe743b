// The fixed keys of the package fuzzer and of its seed corpus (make_package_corpus): the seeds
// are signed and encrypted with them, so the fuzzer starts from packages it can open.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdlib>
#include <vector>

#include "package/keys.h"

namespace outpost::fuzz {

inline package::KeyPair FuzzSigningPair() {
  std::array<uint8_t, 32> seed;
  seed.fill(0x5e);
  return package::SigningKeyPairFromSeed(seed);
}

inline package::Key FuzzFleetKey() { return package::Key(package::KeyType::kFleet, std::vector<uint8_t>(32, 0x46)); }

inline package::KeyPair FuzzDevicePair() {
  if (sodium_init() < 0) std::abort();  // idempotent; the library initializes it too
  std::vector<uint8_t> pk(crypto_box_PUBLICKEYBYTES), sk(crypto_box_SECRETKEYBYTES);
  std::array<uint8_t, crypto_box_SEEDBYTES> seed;
  seed.fill(0xde);
  crypto_box_seed_keypair(pk.data(), sk.data(), seed.data());
  return {package::Key(package::KeyType::kDeviceSecret, sk), package::Key(package::KeyType::kDevicePublic, pk)};
}

}  // namespace outpost::fuzz
