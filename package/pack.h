// Packing a compiled .opm model into a signed (and optionally encrypted) .opk package.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "package/keys.h"
#include "package/manifest.h"
#include "package/payload_cipher.h"

namespace outpost::package {

struct PackOptions {
  std::string name;     // empty: the model's own name, else `default_name`
  std::string default_name;
  std::string version;  // semantic version, required
  std::optional<uint64_t> counter;  // default: CounterFromVersion(version)
  std::vector<std::string> targets;
  std::string min_runtime;  // empty: this runtime's version
  std::optional<double> accuracy;    // overrides the model's metadata
  std::optional<double> latency_ms;  // overrides the model's metadata
  std::string created;  // empty: now
  // Encryption: a fleet key, or device public keys to seal a fresh content key to (not both).
  std::optional<Key> fleet_key;
  std::vector<Key> devices;
  // Reproducible encryption (tests, rebuilding a package): default random.
  std::optional<StreamHeader> stream_header;
  std::optional<ContentKey> content_key;  // sealed-to-device packages only
};

// The .opm model must load with the runtime's verifier and its content hashes must hold.
Expected<std::vector<uint8_t>> PackModel(std::span<const uint8_t> opm, const Key& signing_secret,
                                         const PackOptions& options);

// Signs header, manifest and payload into a package (no checks of the manifest's content).
// PackModel uses it; tests use it to build packages whose manifest lies about the model.
std::vector<uint8_t> AssemblePackage(const Manifest& manifest, std::span<const uint8_t> payload,
                                     const Key& signing_secret);

// The runtime version a package requires by default.
const char* RuntimeVersion();

}  // namespace outpost::package
