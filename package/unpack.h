// Unpacking: verify the package, decrypt the model if needed, check it against every hash in
// the manifest, load it with the runtime's verifier, and only then hand it out or write it.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "package/keys.h"
#include "package/verify.h"

namespace outpost::package {

struct UnpackedModel {
  VerifiedPackage package;
  std::vector<uint8_t> model;  // the .opm bytes
};

// `decryption_key` (a fleet key or a device secret key) is needed for encrypted packages only.
Expected<UnpackedModel> UnpackPackageBytes(std::span<const uint8_t> bytes, const Key& signing_public,
                                           const Key* decryption_key);
// Reads `package_path` once (verification and extraction see the same bytes) and writes the
// model to `model_path` atomically (temporary file, fsync, rename).
Expected<UnpackedModel> UnpackPackageFile(const std::string& package_path, const Key& signing_public,
                                          const Key* decryption_key, const std::string& model_path);

}  // namespace outpost::package
