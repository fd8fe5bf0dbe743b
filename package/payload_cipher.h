// Encryption of the model at rest: XChaCha20-Poly1305 in libsodium's secretstream construction,
// in chunks (each one authenticated, the last one tagged final, so truncation and reordering are
// detected and decryption needs one chunk of memory at a time).
//
// Encryption is deterministic given the content key and the 24-byte stream header: the header
// is normally random, but it is stored in the manifest, and encrypting the same model again
// with the same key and header gives the same bytes (a differential update rebuilds an
// encrypted package bit for bit this way).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/expected.h"
#include "package/keys.h"

namespace outpost::package {

inline constexpr uint32_t kChunkBytes = 64 * 1024;
using ContentKey = std::array<uint8_t, 32>;
using StreamHeader = std::array<uint8_t, 24>;

StreamHeader RandomStreamHeader();
ContentKey RandomContentKey();

// Ciphertext size for `plaintext_bytes` (each chunk adds 17 bytes).
uint64_t CiphertextBytes(uint64_t plaintext_bytes, uint32_t chunk_bytes = kChunkBytes);

std::vector<uint8_t> EncryptPayload(std::span<const uint8_t> plaintext, const ContentKey& key,
                                    const StreamHeader& header, uint32_t chunk_bytes = kChunkBytes);
// Fails with "cannot decrypt ..." on a wrong key or modified ciphertext.
Expected<std::vector<uint8_t>> DecryptPayload(std::span<const uint8_t> ciphertext,
                                              const ContentKey& key, const StreamHeader& header,
                                              uint32_t chunk_bytes = kChunkBytes);

// Seals a content key to a device's X25519 public key (crypto_box_seal) and opens it again.
std::vector<uint8_t> SealContentKey(const ContentKey& key, const Key& device_public);
Expected<ContentKey> OpenSealedContentKey(std::span<const uint8_t> sealed, const Key& device_secret);

}  // namespace outpost::package
