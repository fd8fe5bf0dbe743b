// Key files: one line naming the key type, one line of base64 (libsodium's original variant).
// Secret keys are created mode 0600 (never chmod-ed afterwards: no window where others could
// read them) and refused on read when the group or others may read them. Key bytes are never
// printed or put into error messages; a key is named by its key id (docs/package-format.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::package {

enum class KeyType {
  kSigningSecret,   // Ed25519 secret key (64 bytes: seed and public key)
  kSigningPublic,   // Ed25519 public key (32 bytes)
  kDeviceSecret,    // X25519 secret key (32 bytes), opens content keys sealed to the device
  kDevicePublic,    // X25519 public key (32 bytes), seals content keys for the device
  kFleet,           // 32-byte symmetric content key shared by a fleet
};

// The first line of a key file of that type, e.g. "outpost-signing-secret-key".
const char* KeyTypeLine(KeyType type);
bool IsSecret(KeyType type);
size_t KeyBytes(KeyType type);

// Key bytes that are wiped when the object goes away.
class Key {
 public:
  Key(KeyType type, std::vector<uint8_t> bytes);
  Key(const Key&) = default;
  Key& operator=(const Key&) = default;
  ~Key();

  KeyType type() const { return type_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  // Short public name of the key: 16 hex digits of a BLAKE2b hash of the public key (of the
  // key itself, domain-separated, for a fleet key). Secret and public halves share an id.
  std::string id() const;

 private:
  KeyType type_;
  std::vector<uint8_t> bytes_;
};

struct KeyPair {
  Key secret, public_key;
};

KeyPair GenerateSigningKeyPair();
// Deterministic signing pair from a 32-byte seed (reproducible test fixtures and fuzz seeds).
KeyPair SigningKeyPairFromSeed(const std::array<uint8_t, 32>& seed);
KeyPair GenerateDeviceKeyPair();
Key GenerateFleetKey();
// The public half of a device secret key.
Key DevicePublicKeyOf(const Key& device_secret);

// Writes a key file. Secret keys: created with mode 0600 in one step and never over an existing
// file. Public keys: mode 0644. Refuses to replace an existing file either way.
Expected<Unit> WriteKeyFile(const std::string& path, const Key& key);

// Reads a key file of one of the `accepted` types; the error names the path and what is wrong
// (missing, wrong type, bad base64, wrong length, secret key readable by group or others).
Expected<Key> ReadKeyFile(const std::string& path, std::vector<KeyType> accepted);

}  // namespace outpost::package
