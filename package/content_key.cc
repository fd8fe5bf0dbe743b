#include "package/content_key.h"

#include <cstring>
#include <string>
#include <vector>

#include "package/codec.h"

namespace outpost::package {
namespace {

ContentKey FindContentKey(const Encryption& e, const Key* key) {
  if (key == nullptr) throw Error("package: the model is encrypted: give a decryption key");
  ContentKey content{};
  if (key->type() == KeyType::kFleet) {
    if (e.fleet_key.empty())
      throw Error("package: the model is sealed to devices, not encrypted with a fleet key");
    if (e.fleet_key != key->id())
      throw Error("package: encrypted with fleet key " + e.fleet_key + ", the given key is " + key->id());
    std::memcpy(content.data(), key->bytes().data(), content.size());
    return content;
  }
  if (key->type() != KeyType::kDeviceSecret)
    throw Error("package: decryption needs a fleet key or a device secret key");
  if (e.sealed_keys.empty())
    throw Error("package: the model is encrypted with a fleet key, not sealed to devices");
  const std::string id = key->id();
  for (const SealedKey& s : e.sealed_keys) {
    if (s.device != id) continue;
    Expected<std::vector<uint8_t>> sealed = FromBase64(s.sealed);
    if (!sealed) throw Error("package: a sealed content key is not valid base64");
    Expected<ContentKey> k = OpenSealedContentKey(sealed.value(), *key);
    if (!k) throw Error("package: " + k.message());
    return k.value();
  }
  throw Error("package: the model is not sealed to device key " + id);
}

}  // namespace

Expected<ContentKey> ContentKeyFor(const Encryption& encryption, const Key* key) {
  return Capture([&] { return FindContentKey(encryption, key); });
}

Expected<StreamHeader> StreamHeaderOf(const Encryption& encryption) {
  Expected<std::vector<uint8_t>> bytes = FromBase64(encryption.stream_header);
  if (!bytes || bytes->size() != sizeof(StreamHeader))
    return Error("package: the stream header in the manifest is not 24 bytes of base64");
  StreamHeader header;
  std::memcpy(header.data(), bytes->data(), header.size());
  return header;
}

}  // namespace outpost::package
