// The fixed 64-byte header at the start of every .opk package (docs/package-format.md). It is
// read first and checked against the file size before anything else, so a truncated or padded
// package, or one written by a newer incompatible writer, is refused without reading further.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/expected.h"

namespace outpost::package {

inline constexpr uint8_t kPackageMagic[8] = {'O', 'U', 'T', 'P', 'O', 'S', 'T', 'K'};
inline constexpr uint16_t kFormatMajor = 1;
inline constexpr uint16_t kFormatMinor = 0;
inline constexpr size_t kHeaderBytes = 64;
inline constexpr size_t kSignatureBytes = 64;
// The manifest is JSON of a few kilobytes; the bound keeps a hostile header from making a
// reader allocate much before the signature is checked.
inline constexpr size_t kMaxManifestBytes = 1 << 20;
inline constexpr uint32_t kFlagEncrypted = 1u << 0;
inline constexpr uint32_t kKnownFlags = kFlagEncrypted;

struct PackageHeader {
  uint16_t format_major = kFormatMajor;
  uint16_t format_minor = kFormatMinor;
  uint32_t flags = 0;
  uint32_t manifest_bytes = 0;
  uint64_t payload_bytes = 0;
  uint64_t total_bytes = 0;

  bool encrypted() const { return (flags & kFlagEncrypted) != 0; }
  uint64_t manifest_offset() const { return kHeaderBytes; }
  uint64_t payload_offset() const { return kHeaderBytes + manifest_bytes; }
  uint64_t signature_offset() const { return payload_offset() + payload_bytes; }
};

// Header bytes for the given section sizes (total_bytes is computed).
void EncodeHeader(PackageHeader header, uint8_t out[kHeaderBytes]);

// Decodes and checks `bytes` (the first kHeaderBytes of a package; fewer means the package is
// truncated) against `file_bytes`, the package's whole size. Errors say what is wrong.
Expected<PackageHeader> DecodeHeader(std::span<const uint8_t> bytes, uint64_t file_bytes);
// The same checks but those against the file size, for a header whose package is still being
// rebuilt (a differential update): the size it declares is taken as the file size.
Expected<PackageHeader> DecodeHeaderAlone(std::span<const uint8_t> bytes);

}  // namespace outpost::package
