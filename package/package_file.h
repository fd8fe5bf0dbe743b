// A .opk package as bytes: split around the model payload and joined again, without verifying
// anything (docs/package-format.md). A differential update replaces the payload and joins.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/expected.h"

namespace outpost::package {

// A package split around its model payload, without verifying anything. The payload is the
// .opm bytes (plaintext packages) or its ciphertext (encrypted packages).
struct PackageParts {
  std::vector<uint8_t> before_payload, payload, after_payload;
};
// Checks only the header's sizes against the byte count (same errors as verification).
Expected<PackageParts> SplitPackage(std::span<const uint8_t> package_bytes);
// Inverse of SplitPackage: concatenates; the result must then pass VerifyPackage.
std::vector<uint8_t> JoinPackage(const PackageParts& parts);

}  // namespace outpost::package
