#include "package/package_header.h"

#include <cstring>
#include <string>

namespace outpost::package {
namespace {

// Field offsets (docs/package-format.md, "Header").
constexpr size_t kMajorAt = 8, kMinorAt = 10, kHeaderBytesAt = 12, kFlagsAt = 16,
                 kManifestAt = 20, kPayloadAt = 24, kSignatureAt = 32, kReserved1At = 36,
                 kTotalAt = 40, kReserved2At = 48;

template <typename T>
void Put(uint8_t* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
}

template <typename T>
T Get(const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return static_cast<T>(v);
}

}  // namespace

void EncodeHeader(PackageHeader h, uint8_t out[kHeaderBytes]) {
  std::memset(out, 0, kHeaderBytes);
  std::memcpy(out, kPackageMagic, sizeof(kPackageMagic));
  Put<uint16_t>(out + kMajorAt, h.format_major);
  Put<uint16_t>(out + kMinorAt, h.format_minor);
  Put<uint32_t>(out + kHeaderBytesAt, kHeaderBytes);
  Put<uint32_t>(out + kFlagsAt, h.flags);
  Put<uint32_t>(out + kManifestAt, h.manifest_bytes);
  Put<uint64_t>(out + kPayloadAt, h.payload_bytes);
  Put<uint32_t>(out + kSignatureAt, kSignatureBytes);
  Put<uint64_t>(out + kTotalAt, kHeaderBytes + h.manifest_bytes + h.payload_bytes + kSignatureBytes);
}

Expected<PackageHeader> DecodeHeader(std::span<const uint8_t> b, uint64_t file_bytes) {
  const std::string where = "package: ";
  if (file_bytes < kHeaderBytes || b.size() < kHeaderBytes)
    return Error(where + "truncated: " + std::to_string(file_bytes) +
                 " bytes, shorter than the 64-byte header");
  if (std::memcmp(b.data(), kPackageMagic, sizeof(kPackageMagic)) != 0)
    return Error(where + "not an Outpost package (bad magic)");
  PackageHeader h;
  h.format_major = Get<uint16_t>(&b[kMajorAt]);
  h.format_minor = Get<uint16_t>(&b[kMinorAt]);
  if (h.format_major != kFormatMajor)
    return Error(where + "format version " + std::to_string(h.format_major) + "." +
                 std::to_string(h.format_minor) + ", this reader reads " +
                 std::to_string(kFormatMajor) + ".x");
  if (Get<uint32_t>(&b[kHeaderBytesAt]) != kHeaderBytes)
    return Error(where + "header size is " + std::to_string(Get<uint32_t>(&b[kHeaderBytesAt])) +
                 ", expected 64");
  if (Get<uint32_t>(&b[kSignatureAt]) != kSignatureBytes)
    return Error(where + "signature size is " + std::to_string(Get<uint32_t>(&b[kSignatureAt])) +
                 ", expected 64");
  h.flags = Get<uint32_t>(&b[kFlagsAt]);
  if ((h.flags & ~kKnownFlags) != 0)
    return Error(where + "unknown header flags " + std::to_string(h.flags & ~kKnownFlags) +
                 " (written by a newer format version?)");
  bool reserved_zero = Get<uint32_t>(&b[kReserved1At]) == 0;
  for (size_t i = kReserved2At; i < kHeaderBytes; ++i) reserved_zero = reserved_zero && b[i] == 0;
  if (!reserved_zero) return Error(where + "reserved header bytes are not zero");
  h.manifest_bytes = Get<uint32_t>(&b[kManifestAt]);
  h.payload_bytes = Get<uint64_t>(&b[kPayloadAt]);
  h.total_bytes = Get<uint64_t>(&b[kTotalAt]);
  if (h.manifest_bytes == 0 || h.manifest_bytes > kMaxManifestBytes)
    return Error(where + "manifest size " + std::to_string(h.manifest_bytes) +
                 " is out of range (1 to " + std::to_string(kMaxManifestBytes) + ")");
  // payload_bytes comes from the file: compare without overflowing.
  const uint64_t fixed = kHeaderBytes + h.manifest_bytes + kSignatureBytes;
  if (h.payload_bytes > UINT64_MAX - fixed || h.total_bytes != fixed + h.payload_bytes)
    return Error(where + "section sizes do not add up to the total size in the header");
  if (file_bytes < h.total_bytes)
    return Error(where + "truncated: " + std::to_string(file_bytes) + " bytes, the header says " +
                 std::to_string(h.total_bytes));
  if (file_bytes > h.total_bytes)
    return Error(where + std::to_string(file_bytes - h.total_bytes) +
                 " bytes of trailing data after the " + std::to_string(h.total_bytes) +
                 " the header declares");
  return h;
}

Expected<PackageHeader> DecodeHeaderAlone(std::span<const uint8_t> b) {
  if (b.size() < kHeaderBytes)
    return Error("package: truncated: " + std::to_string(b.size()) +
                 " bytes, shorter than the 64-byte header");
  return DecodeHeader(b, Get<uint64_t>(&b[kTotalAt]));
}

}  // namespace outpost::package
