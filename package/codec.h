// Text encodings used in manifests and key files: lowercase hex and base64 (libsodium's
// original variant, with padding).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::package {

std::string ToHex(std::span<const uint8_t> bytes);
std::string ToBase64(std::span<const uint8_t> bytes);
Expected<std::vector<uint8_t>> FromBase64(const std::string& text);
Expected<std::vector<uint8_t>> FromHex(const std::string& text);

}  // namespace outpost::package
