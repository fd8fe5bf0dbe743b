#include "package/codec.h"

#include <sodium.h>

#include "package/sodium_init.h"

namespace outpost::package {

std::string ToHex(std::span<const uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

std::string ToBase64(std::span<const uint8_t> bytes) {
  InitSodium();
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  std::string s(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(s.data(), s.size(), bytes.data(), bytes.size(), variant);
  s.resize(s.size() - 1);  // the terminating NUL
  return s;
}

Expected<std::vector<uint8_t>> FromBase64(const std::string& text) {
  InitSodium();
  std::vector<uint8_t> out(text.size() / 4 * 3 + 3);
  size_t n = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &n, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size())
    return Error("not valid base64");
  out.resize(n);
  return out;
}

Expected<std::vector<uint8_t>> FromHex(const std::string& text) {
  InitSodium();
  std::vector<uint8_t> out(text.size() / 2);
  size_t n = 0;
  const char* end = nullptr;
  if (text.size() % 2 != 0 ||
      sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &n, &end) != 0 ||
      end != text.data() + text.size())
    return Error("not valid hex");
  out.resize(n);
  return out;
}

}  // namespace outpost::package
