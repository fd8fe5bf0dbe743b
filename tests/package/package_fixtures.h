// Shared fixtures of the package tests and benchmark: deterministic keys and models.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "package/keys.h"

namespace outpost::testing {

// The signing pair derived from seed byte `seed` (repeated 32 times).
package::KeyPair TestSigningPair(uint8_t seed = 7);

// A valid .opm of about `bytes` bytes: y = x + bias with a float bias of bytes/4 elements.
std::vector<uint8_t> BigAddModelOpm(size_t bytes);

}  // namespace outpost::testing
