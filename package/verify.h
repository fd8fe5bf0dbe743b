// Verification of a package: header and sizes first, then the Ed25519ph signature over header,
// manifest and payload, computed while streaming the file through a fixed buffer (memory use
// does not grow with the package), then the manifest itself. A plaintext payload's BLAKE2b is
// computed in the same pass and compared with the manifest. Needs no decryption key.
#pragma once

#include <span>
#include <string>

#include "common/expected.h"
#include "package/keys.h"
#include "package/manifest.h"
#include "package/package_header.h"

namespace outpost::package {

struct VerifiedPackage {
  PackageHeader header;
  Manifest manifest;
  std::string manifest_json;  // the signed bytes
};

// `signing_public` is an Ed25519 public key. Errors start with "package: " and give one reason.
Expected<VerifiedPackage> VerifyPackageFile(const std::string& path, const Key& signing_public);
Expected<VerifiedPackage> VerifyPackageBytes(std::span<const uint8_t> bytes, const Key& signing_public);

}  // namespace outpost::package
