#include "fleet/server/validation.h"

#include <regex>

#include "package/codec.h"
#include "package/manifest.h"

namespace outpost::fleet {
namespace {

bool Matches(const std::string& s, const std::regex& re) { return std::regex_match(s, re); }

bool IsLowerHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Strict UTF-8: no overlong forms, surrogates or code points above U+10FFFF.
bool IsUtf8WithoutControls(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    int extra = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) extra = 1, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) extra = 2, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) extra = 3, cp = c & 0x07;
    else return false;
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp >= 0x80 && cp < 0xa0) return false;  // C1 controls
    i += extra + 1;
  }
  return true;
}

}  // namespace

bool IsPrefixedId(const std::string& s, const std::string& prefix) {
  return s.size() == prefix.size() + 16 && s.compare(0, prefix.size(), prefix) == 0 &&
         IsLowerHex(s.substr(prefix.size()));
}

bool IsDeviceId(const std::string& s) { return IsPrefixedId(s, "d-"); }

bool IsDigest(const std::string& s) { return s.size() == 64 && IsLowerHex(s); }

bool IsModelName(const std::string& s) {
  static const std::regex re("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  return Matches(s, re);
}

bool IsVersion(const std::string& s) { return s.size() <= 64 && package::IsSemanticVersion(s); }

bool IsLabel(const std::string& s) {
  static const std::regex re("[A-Za-z0-9._:-]{1,64}");
  return Matches(s, re);
}

bool IsDeviceName(const std::string& s) {
  return !s.empty() && s.size() <= 128 && IsUtf8WithoutControls(s);
}

bool IsDevicePublicKey(const std::string& s) {
  if (s.size() != 44) return false;
  Expected<std::vector<uint8_t>> bytes = package::FromBase64(s);
  return bytes.ok() && bytes->size() == 32 && package::ToBase64(*bytes) == s;
}

}  // namespace outpost::fleet
