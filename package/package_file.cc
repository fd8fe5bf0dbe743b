#include "package/package_file.h"

#include "package/package_header.h"

namespace outpost::package {

Expected<PackageParts> SplitPackage(std::span<const uint8_t> bytes) {
  Expected<PackageHeader> h = DecodeHeader(bytes, bytes.size());
  if (!h) return h.error();
  const auto at = [&](uint64_t offset) { return bytes.begin() + static_cast<ptrdiff_t>(offset); };
  PackageParts parts;
  parts.before_payload.assign(bytes.begin(), at(h->payload_offset()));
  parts.payload.assign(at(h->payload_offset()), at(h->signature_offset()));
  parts.after_payload.assign(at(h->signature_offset()), bytes.end());
  return parts;
}

std::vector<uint8_t> JoinPackage(const PackageParts& parts) {
  std::vector<uint8_t> out;
  out.reserve(parts.before_payload.size() + parts.payload.size() + parts.after_payload.size());
  out.insert(out.end(), parts.before_payload.begin(), parts.before_payload.end());
  out.insert(out.end(), parts.payload.begin(), parts.payload.end());
  out.insert(out.end(), parts.after_payload.begin(), parts.after_payload.end());
  return out;
}

}  // namespace outpost::package
