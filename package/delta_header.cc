#include "package/delta_header.h"

#include <sodium.h>

#include <cstring>
#include <string>

namespace outpost::package {
namespace {

// Field offsets of the 1.0 header (docs/delta-format.md).
constexpr size_t kOffMagic = 0, kOffMajor = 8, kOffMinor = 10, kOffHeaderBytes = 12,
                 kOffBaseHash = 16, kOffTargetHash = 48, kOffBaseBytes = 80,
                 kOffTargetBytes = 88, kOffEnvelopeBytes = 96, kOffBodyBytes = 104,
                 kOffCompressedBytes = 112, kOffTensorsCopied = 120, kOffTensorsSent = 124,
                 kOffBytesCopied = 128, kOffBodyHash = 136,
                 kOffPrefixBytes = 168;
// Bytes before the header hash that the magic, version and header size occupy: enough to
// tell a delta and its version apart before trusting anything else.
constexpr size_t kPrefixBytes = 16;

template <typename T>
void Put(std::vector<uint8_t>& out, size_t off, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

template <typename T>
T Get(std::span<const uint8_t> in, size_t off) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(in[off + i]) << (8 * i));
  return v;
}

Hash256 GetHash(std::span<const uint8_t> in, size_t off) {
  Hash256 h;
  std::memcpy(h.data(), in.data() + off, h.size());
  return h;
}

Error Fail(const std::string& why) { return Error("delta: " + why); }

}  // namespace

Hash256 Blake2b256(std::span<const uint8_t> bytes) {
  // sodium_init picks the fastest implementation for this CPU; it is idempotent and safe to
  // call from several threads.
  static const int init = sodium_init();
  (void)init;
  Hash256 h;
  crypto_generichash(h.data(), h.size(), bytes.data(), bytes.size(), nullptr, 0);
  return h;
}

std::string ShortHex(const Hash256& hash, size_t bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < bytes && i < hash.size(); ++i) {
    s += kDigits[hash[i] >> 4];
    s += kDigits[hash[i] & 15];
  }
  return s;
}

std::vector<uint8_t> EncodeDeltaHeader(const DeltaHeader& h) {
  std::vector<uint8_t> out(h.header_bytes, 0);
  std::memcpy(out.data() + kOffMagic, kDeltaMagic, sizeof(kDeltaMagic));
  Put(out, kOffMajor, h.format_major);
  Put(out, kOffMinor, h.format_minor);
  Put(out, kOffHeaderBytes, h.header_bytes);
  std::memcpy(out.data() + kOffBaseHash, h.base_hash.data(), 32);
  std::memcpy(out.data() + kOffTargetHash, h.target_hash.data(), 32);
  Put(out, kOffBaseBytes, h.base_bytes);
  Put(out, kOffTargetBytes, h.target_bytes);
  Put(out, kOffEnvelopeBytes, h.envelope_bytes);
  Put(out, kOffBodyBytes, h.body_bytes);
  Put(out, kOffCompressedBytes, h.compressed_bytes);
  Put(out, kOffTensorsCopied, h.tensors_copied);
  Put(out, kOffTensorsSent, h.tensors_sent);
  Put(out, kOffBytesCopied, h.bytes_copied);
  std::memcpy(out.data() + kOffBodyHash, h.body_hash.data(), 32);
  Put(out, kOffPrefixBytes, h.prefix_bytes);
  const size_t hash_at = h.header_bytes - 32;
  const Hash256 self = Blake2b256(std::span<const uint8_t>(out.data(), hash_at));
  std::memcpy(out.data() + hash_at, self.data(), 32);
  return out;
}

Expected<DeltaHeader> DecodeDeltaHeader(std::span<const uint8_t> d) {
  if (d.size() < kPrefixBytes)
    return Fail("truncated: " + std::to_string(d.size()) + " bytes, shorter than a header");
  if (std::memcmp(d.data() + kOffMagic, kDeltaMagic, sizeof(kDeltaMagic)) != 0)
    return Fail("not a model delta (bad magic)");
  DeltaHeader h;
  h.format_major = Get<uint16_t>(d, kOffMajor);
  h.format_minor = Get<uint16_t>(d, kOffMinor);
  if (h.format_major != kDeltaFormatMajor)
    return Fail("format version " + std::to_string(h.format_major) + "." +
                std::to_string(h.format_minor) + ", this reader reads " +
                std::to_string(kDeltaFormatMajor) + ".x");
  h.header_bytes = Get<uint32_t>(d, kOffHeaderBytes);
  if (h.header_bytes < kDeltaHeaderBytes || h.header_bytes > kDeltaMaxHeaderBytes ||
      (h.format_minor == 0 && h.header_bytes != kDeltaHeaderBytes))
    return Fail("header size " + std::to_string(h.header_bytes) + " is invalid");
  if (d.size() < h.header_bytes)
    return Fail("truncated: " + std::to_string(d.size()) + " bytes, the header alone is " +
                std::to_string(h.header_bytes));
  const size_t hash_at = h.header_bytes - 32;
  if (Blake2b256(d.first(hash_at)) != GetHash(d, hash_at))
    return Fail("header is corrupt (its hash does not match)");
  h.base_hash = GetHash(d, kOffBaseHash);
  h.target_hash = GetHash(d, kOffTargetHash);
  h.base_bytes = Get<uint64_t>(d, kOffBaseBytes);
  h.target_bytes = Get<uint64_t>(d, kOffTargetBytes);
  h.envelope_bytes = Get<uint64_t>(d, kOffEnvelopeBytes);
  h.body_bytes = Get<uint64_t>(d, kOffBodyBytes);
  h.compressed_bytes = Get<uint64_t>(d, kOffCompressedBytes);
  h.tensors_copied = Get<uint32_t>(d, kOffTensorsCopied);
  h.tensors_sent = Get<uint32_t>(d, kOffTensorsSent);
  h.bytes_copied = Get<uint64_t>(d, kOffBytesCopied);
  h.body_hash = GetHash(d, kOffBodyHash);
  h.prefix_bytes = Get<uint64_t>(d, kOffPrefixBytes);
  const uint64_t rest = d.size() - h.header_bytes;
  if (rest < h.compressed_bytes)
    return Fail("truncated: " + std::to_string(d.size()) + " bytes, the header says " +
                std::to_string(h.header_bytes + h.compressed_bytes));
  if (rest > h.compressed_bytes)
    return Fail(std::to_string(rest - h.compressed_bytes) +
                " bytes of trailing data after the body");
  return h;
}

std::vector<uint8_t> AssembleDelta(DeltaHeader header, std::span<const uint8_t> body) {
  header.compressed_bytes = body.size();
  header.body_hash = Blake2b256(body);
  std::vector<uint8_t> out = EncodeDeltaHeader(header);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace outpost::package
