#include "package/payload_cipher.h"

#include <sodium.h>

#include <cstring>

#include "package/sodium_init.h"

namespace outpost::package {

static_assert(sizeof(StreamHeader) == crypto_secretstream_xchacha20poly1305_HEADERBYTES);
static_assert(sizeof(ContentKey) == crypto_secretstream_xchacha20poly1305_KEYBYTES);
constexpr uint32_t kChunkOverhead = crypto_secretstream_xchacha20poly1305_ABYTES;

StreamHeader RandomStreamHeader() {
  InitSodium();
  StreamHeader h;
  randombytes_buf(h.data(), h.size());
  return h;
}

ContentKey RandomContentKey() {
  InitSodium();
  ContentKey k;
  crypto_secretstream_xchacha20poly1305_keygen(k.data());
  return k;
}

uint64_t CiphertextBytes(uint64_t n, uint32_t chunk) {
  const uint64_t chunks = n == 0 ? 1 : (n + chunk - 1) / chunk;
  return n + chunks * kChunkOverhead;
}

std::vector<uint8_t> EncryptPayload(std::span<const uint8_t> plaintext, const ContentKey& key,
                                    const StreamHeader& header, uint32_t chunk) {
  InitSodium();
  // init_push would draw a fresh random header; init_pull derives the very same state from a
  // given header, which is what makes re-encryption reproducible.
  crypto_secretstream_xchacha20poly1305_state state;
  crypto_secretstream_xchacha20poly1305_init_pull(&state, header.data(), key.data());
  std::vector<uint8_t> out(CiphertextBytes(plaintext.size(), chunk));
  size_t in_at = 0, out_at = 0;
  do {
    const size_t n = std::min<size_t>(chunk, plaintext.size() - in_at);
    const bool last = in_at + n == plaintext.size();
    unsigned long long written = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &state, out.data() + out_at, &written, plaintext.data() + in_at, n, nullptr, 0,
        last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    in_at += n;
    out_at += written;
    if (last) break;
  } while (true);
  sodium_memzero(&state, sizeof(state));
  return out;
}

Expected<std::vector<uint8_t>> DecryptPayload(std::span<const uint8_t> ciphertext,
                                              const ContentKey& key, const StreamHeader& header,
                                              uint32_t chunk) {
  InitSodium();
  crypto_secretstream_xchacha20poly1305_state state;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&state, header.data(), key.data()) != 0)
    return Error("cannot decrypt the model: bad stream header");
  std::vector<uint8_t> out;
  out.reserve(ciphertext.size());
  size_t at = 0;
  bool final_seen = false;
  std::vector<uint8_t> buf(chunk);
  while (at < ciphertext.size()) {
    if (final_seen) return Error("cannot decrypt the model: data after the final chunk");
    const size_t n = std::min<size_t>(chunk + kChunkOverhead, ciphertext.size() - at);
    unsigned long long got = 0;
    unsigned char tag = 0;
    if (n < kChunkOverhead ||
        crypto_secretstream_xchacha20poly1305_pull(&state, buf.data(), &got, &tag,
                                                   ciphertext.data() + at, n, nullptr, 0) != 0)
      return Error("cannot decrypt the model: wrong decryption key or modified ciphertext");
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(got));
    final_seen = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    at += n;
  }
  sodium_memzero(&state, sizeof(state));
  if (!final_seen) return Error("cannot decrypt the model: the ciphertext is truncated");
  return out;
}

std::vector<uint8_t> SealContentKey(const ContentKey& key, const Key& device_public) {
  InitSodium();
  std::vector<uint8_t> sealed(crypto_box_SEALBYTES + key.size());
  crypto_box_seal(sealed.data(), key.data(), key.size(), device_public.bytes().data());
  return sealed;
}

Expected<ContentKey> OpenSealedContentKey(std::span<const uint8_t> sealed, const Key& device_secret) {
  InitSodium();
  ContentKey key;
  const Key pk = DevicePublicKeyOf(device_secret);
  if (sealed.size() != crypto_box_SEALBYTES + key.size() ||
      crypto_box_seal_open(key.data(), sealed.data(), sealed.size(), pk.bytes().data(),
                           device_secret.bytes().data()) != 0)
    return Error("cannot open the sealed content key with this device key");
  return key;
}

}  // namespace outpost::package
