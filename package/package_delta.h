// Differential updates of packages (docs/package-format.md, "Differential updates"). The model
// inside is diffed as plaintext with the model delta (docs/delta-format.md); the rest of the new
// package (header, manifest, signature) travels in the delta as its envelope. Applying one
// rebuilds the new package bit for bit (an encrypted model is encrypted again with the content
// key and stream header of the new manifest) and verifies it like any downloaded package
// before handing it out: a delta can never produce a package the signing key did not sign.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/expected.h"
#include "package/keys.h"
#include "package/model_delta.h"
#include "package/unpack.h"

namespace outpost::package {

// Both packages must verify with `signing_public`; encrypted ones need `decryption_key` (a
// fleet key, or the secret key of a device they are sealed to).
Expected<std::vector<uint8_t>> MakePackageDelta(std::span<const uint8_t> old_package,
                                                std::span<const uint8_t> new_package,
                                                const Key& signing_public,
                                                const Key* decryption_key = nullptr,
                                                int zstd_level = 19);

struct PatchedPackage {
  std::vector<uint8_t> bytes;  // the new package, verified
  UnpackedModel unpacked;      // its manifest and plaintext model
  DeltaInfo delta;
};

// Refused, with one reason: an old package that does not verify, a delta made for another base
// model, a corrupt delta, or a rebuilt package whose signature or manifest does not hold.
Expected<PatchedPackage> ApplyPackageDelta(std::span<const uint8_t> old_package,
                                           std::span<const uint8_t> delta,
                                           const Key& signing_public,
                                           const Key* decryption_key = nullptr,
                                           const DeltaLimits& limits = {});

}  // namespace outpost::package
