// The key that decrypts an encrypted package's model: the fleet key itself, or the content key
// sealed to this device in the manifest; and the stream header stored beside it. Unpacking
// decrypts with them; a differential update encrypts the rebuilt model again with them.
#pragma once

#include "common/expected.h"
#include "package/keys.h"
#include "package/manifest.h"
#include "package/payload_cipher.h"

namespace outpost::package {

// `key` is a fleet key or a device secret key; errors say which kind the package needs.
Expected<ContentKey> ContentKeyFor(const Encryption& encryption, const Key* key);
Expected<StreamHeader> StreamHeaderOf(const Encryption& encryption);

}  // namespace outpost::package
