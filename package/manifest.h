// The package manifest: what a device needs to decide whether to install a model, as canonical
// JSON (keys sorted, no whitespace: the exact bytes are signed, and a reader refuses any other
// spelling of the same content). Fields: docs/package-format.md, "Manifest".
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::package {

// A figure about the model and where it comes from: "model" (the compiler's own numbers stored
// in the .opm), "model metadata" (a key of the .opm's metadata) or "command line".
struct Figure {
  nlohmann::json value;  // a number
  std::string source;
};

// The .opm's content hash of one constant buffer, and the tensor it holds (if any).
struct TensorHash {
  uint32_t buffer = 0;
  std::string tensor;  // empty for self-test data
  std::string blake2b;  // 64 hex digits
};

struct SealedKey {
  std::string device;  // key id of the device's public key
  std::string sealed;  // base64 of crypto_box_seal(content key)
};

struct Encryption {
  uint32_t chunk_bytes = 0;   // plaintext bytes per secretstream message
  std::string stream_header;  // base64, 24 bytes
  std::string fleet_key;      // key id of the fleet key, or empty when sealed to devices
  std::vector<SealedKey> sealed_keys;
};

struct Manifest {
  std::string name;
  std::string version;   // semantic version
  uint64_t counter = 0;  // monotonic: a device compares it to refuse downgrades and replays
  std::vector<std::string> targets;
  std::string min_runtime;  // semantic version
  uint64_t model_bytes = 0;
  std::string model_blake2b;
  std::vector<TensorHash> tensors;
  std::map<std::string, Figure> figures;
  std::string created;  // UTC, "YYYY-MM-DDTHH:MM:SSZ"
  std::string signer;   // key id of the signing key
  std::optional<Encryption> encryption;
};

inline constexpr char kManifestFormat[] = "outpost-package-manifest/1";
inline constexpr char kCipher[] = "xchacha20poly1305-secretstream";

std::string CanonicalManifest(const Manifest& m);
// Parses and checks a manifest; refuses non-canonical bytes and missing or mistyped fields.
Expected<Manifest> ParseManifest(std::string_view text);

// Semantic versions (semver.org 2.0.0): MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
bool IsSemanticVersion(const std::string& v);
// The default counter of a version: MAJOR*10^12 + MINOR*10^6 + PATCH. Fails for a pre-release
// (it sorts before its release, which this cannot express), MINOR or PATCH >= 10^6, MAJOR >=
// 10^6, or 0.0.0 (counters are positive).
Expected<uint64_t> CounterFromVersion(const std::string& v);

}  // namespace outpost::package
