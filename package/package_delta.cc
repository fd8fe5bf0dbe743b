#include "package/package_delta.h"

#include <sodium.h>

#include <cstring>
#include <string>
#include <string_view>

#include "package/content_key.h"
#include "package/package_file.h"
#include "package/package_header.h"
#include "package/payload_cipher.h"

namespace outpost::package {
namespace {

// The envelope: the new package without its payload, as an 8-byte little-endian length of the
// part before the payload, that part, and the part after it (the signature).
std::vector<uint8_t> EncodeEnvelope(const PackageParts& parts) {
  std::vector<uint8_t> out(8);
  const uint64_t before = parts.before_payload.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(before >> (8 * i));
  out.insert(out.end(), parts.before_payload.begin(), parts.before_payload.end());
  out.insert(out.end(), parts.after_payload.begin(), parts.after_payload.end());
  return out;
}

PackageParts DecodeEnvelope(std::span<const uint8_t> envelope) {
  if (envelope.size() < 8) throw Error("package delta: the envelope is shorter than its length field");
  uint64_t before = 0;
  for (int i = 0; i < 8; ++i) before |= static_cast<uint64_t>(envelope[i]) << (8 * i);
  if (before < kHeaderBytes || before > envelope.size() - 8)
    throw Error("package delta: the envelope's length field (" + std::to_string(before) +
                ") does not fit its " + std::to_string(envelope.size()) + " bytes");
  PackageParts parts;
  parts.before_payload.assign(envelope.begin() + 8, envelope.begin() + 8 + before);
  parts.after_payload.assign(envelope.begin() + 8 + before, envelope.end());
  return parts;
}

// The payload the new package carries for `model`: the model itself, or its ciphertext under
// the content key and stream header the new manifest names.
std::vector<uint8_t> PayloadFor(const PackageParts& parts, std::span<const uint8_t> model,
                                const Key* decryption_key) {
  const std::span<const uint8_t> head(parts.before_payload);
  const PackageHeader h = DecodeHeaderAlone(head).value();
  if (h.payload_offset() != head.size() ||
      h.signature_offset() + kSignatureBytes != head.size() + h.payload_bytes + parts.after_payload.size())
    throw Error("package delta: the envelope's sections do not match the package header");
  if (!h.encrypted()) return {model.begin(), model.end()};
  const std::string_view text(reinterpret_cast<const char*>(head.data() + kHeaderBytes),
                              head.size() - kHeaderBytes);
  const Manifest m = ParseManifest(text).value();
  if (!m.encryption) throw Error("package delta: the header says encrypted, the manifest does not");
  ContentKey content = ContentKeyFor(*m.encryption, decryption_key).value();
  std::vector<uint8_t> payload =
      EncryptPayload(model, content, StreamHeaderOf(*m.encryption).value(), m.encryption->chunk_bytes);
  sodium_memzero(content.data(), content.size());
  return payload;
}

}  // namespace

Expected<std::vector<uint8_t>> MakePackageDelta(std::span<const uint8_t> old_package,
                                                std::span<const uint8_t> new_package,
                                                const Key& signing_public,
                                                const Key* decryption_key, int zstd_level) {
  return Capture([&] {
    const UnpackedModel old_model =
        UnpackPackageBytes(old_package, signing_public, decryption_key).value();
    const UnpackedModel new_model =
        UnpackPackageBytes(new_package, signing_public, decryption_key).value();
    const PackageParts parts = SplitPackage(new_package).value();
    return MakeModelDelta(old_model.model, new_model.model, EncodeEnvelope(parts), zstd_level)
        .value();
  });
}

Expected<PatchedPackage> ApplyPackageDelta(std::span<const uint8_t> old_package,
                                           std::span<const uint8_t> delta,
                                           const Key& signing_public, const Key* decryption_key,
                                           const DeltaLimits& limits) {
  return Capture([&] {
    const UnpackedModel old_model =
        UnpackPackageBytes(old_package, signing_public, decryption_key).value();
    AppliedDelta applied = ApplyModelDelta(old_model.model, delta, limits).value();
    PackageParts parts = DecodeEnvelope(applied.envelope);
    parts.payload = PayloadFor(parts, applied.model, decryption_key);
    PatchedPackage out;
    out.bytes = JoinPackage(parts);
    Expected<UnpackedModel> verified = UnpackPackageBytes(out.bytes, signing_public, decryption_key);
    if (!verified) throw Error("package delta: the rebuilt package does not verify: " + verified.message());
    out.unpacked = std::move(verified).value();
    out.delta = applied.info;
    return out;
  });
}

}  // namespace outpost::package
