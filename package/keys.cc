#include "package/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <mutex>

#include "package/codec.h"
#include "package/sodium_init.h"

namespace outpost::package {

void InitSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw Error("libsodium failed to initialize");
  });
}

namespace {

struct TypeInfo {
  KeyType type;
  const char* line;
  bool secret;
  size_t bytes;
};
constexpr TypeInfo kTypes[] = {
    {KeyType::kSigningSecret, "outpost-signing-secret-key", true, crypto_sign_SECRETKEYBYTES},
    {KeyType::kSigningPublic, "outpost-signing-public-key", false, crypto_sign_PUBLICKEYBYTES},
    {KeyType::kDeviceSecret, "outpost-device-secret-key", true, crypto_box_SECRETKEYBYTES},
    {KeyType::kDevicePublic, "outpost-device-public-key", false, crypto_box_PUBLICKEYBYTES},
    {KeyType::kFleet, "outpost-fleet-key", true, 32},
};

const TypeInfo& Info(KeyType t) {
  for (const TypeInfo& i : kTypes)
    if (i.type == t) return i;
  return kTypes[0];
}

std::string SysError(const std::string& what, int err) { return what + ": " + std::strerror(err); }

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

const char* KeyTypeLine(KeyType type) { return Info(type).line; }
bool IsSecret(KeyType type) { return Info(type).secret; }
size_t KeyBytes(KeyType type) { return Info(type).bytes; }

Key::Key(KeyType type, std::vector<uint8_t> bytes) : type_(type), bytes_(std::move(bytes)) {}
Key::~Key() {
  if (!bytes_.empty()) sodium_memzero(bytes_.data(), bytes_.size());
}

std::string Key::id() const {
  InitSodium();
  std::vector<uint8_t> material;
  static const char kFleetDomain[] = "outpost fleet key id";
  switch (type_) {
    case KeyType::kSigningSecret:  // the public key is the second half
      material.assign(bytes_.begin() + crypto_sign_SEEDBYTES, bytes_.end());
      break;
    case KeyType::kDeviceSecret:
      material = DevicePublicKeyOf(*this).bytes();
      break;
    case KeyType::kFleet:
      material.assign(kFleetDomain, kFleetDomain + sizeof(kFleetDomain) - 1);
      material.insert(material.end(), bytes_.begin(), bytes_.end());
      break;
    default:
      material = bytes_;
  }
  uint8_t h[32];
  crypto_generichash(h, sizeof(h), material.data(), material.size(), nullptr, 0);
  sodium_memzero(material.data(), material.size());
  return ToHex(std::span<const uint8_t>(h, 8));
}

KeyPair GenerateSigningKeyPair() {
  InitSodium();
  std::vector<uint8_t> pk(crypto_sign_PUBLICKEYBYTES), sk(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(pk.data(), sk.data());
  return {Key(KeyType::kSigningSecret, std::move(sk)), Key(KeyType::kSigningPublic, std::move(pk))};
}

KeyPair SigningKeyPairFromSeed(const std::array<uint8_t, 32>& seed) {
  InitSodium();
  std::vector<uint8_t> pk(crypto_sign_PUBLICKEYBYTES), sk(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  return {Key(KeyType::kSigningSecret, std::move(sk)), Key(KeyType::kSigningPublic, std::move(pk))};
}

KeyPair GenerateDeviceKeyPair() {
  InitSodium();
  std::vector<uint8_t> pk(crypto_box_PUBLICKEYBYTES), sk(crypto_box_SECRETKEYBYTES);
  crypto_box_keypair(pk.data(), sk.data());
  return {Key(KeyType::kDeviceSecret, std::move(sk)), Key(KeyType::kDevicePublic, std::move(pk))};
}

Key GenerateFleetKey() {
  InitSodium();
  std::vector<uint8_t> k(32);
  randombytes_buf(k.data(), k.size());
  return Key(KeyType::kFleet, std::move(k));
}

Key DevicePublicKeyOf(const Key& device_secret) {
  InitSodium();
  std::vector<uint8_t> pk(crypto_box_PUBLICKEYBYTES);
  crypto_scalarmult_base(pk.data(), device_secret.bytes().data());
  return Key(KeyType::kDevicePublic, std::move(pk));
}

Expected<Unit> WriteKeyFile(const std::string& path, const Key& key) {
  InitSodium();
  std::string text = std::string(KeyTypeLine(key.type())) + "\n" + ToBase64(key.bytes()) + "\n";
  const mode_t mode = IsSecret(key.type()) ? 0600 : 0644;
  // Written under a temporary name created with the final mode, then linked to `path`: link()
  // refuses an existing file, so a key is never replaced, and no partial key file is ever seen.
  const std::string temp = path + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  auto wipe = [&] { sodium_memzero(text.data(), text.size()); };
  if (fd < 0) {
    wipe();
    return Error(SysError(path + ": cannot write", errno));
  }
  const bool ok = WriteAll(fd, text.data(), text.size()) && ::fsync(fd) == 0;
  const int write_err = errno;
  wipe();
  if (::close(fd) != 0 || !ok) {
    ::unlink(temp.c_str());
    return Error(SysError(path + ": cannot write", ok ? errno : write_err));
  }
  if (::link(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    if (err == EEXIST) return Error(path + ": already exists (key files are never replaced)");
    return Error(SysError(path + ": cannot write", err));
  }
  ::unlink(temp.c_str());
  return Unit{};
}

Expected<Key> ReadKeyFile(const std::string& path, std::vector<KeyType> accepted) {
  return Capture([&]() -> Key {
    InitSodium();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(SysError(path + ": cannot open key file", errno));
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 4096) {
      ::close(fd);
      throw Error(path + ": not a key file");
    }
    std::string text(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < text.size()) {
      const ssize_t r = ::read(fd, text.data() + got, text.size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    ::close(fd);
    text.resize(got);
    struct Wipe {
      std::string& s;
      ~Wipe() { sodium_memzero(s.data(), s.size()); }
    } wipe{text};
    const size_t nl = text.find('\n');
    const std::string type_line = text.substr(0, nl);
    const TypeInfo* info = nullptr;
    for (const TypeInfo& i : kTypes)
      if (type_line == i.line) info = &i;
    std::string expected;
    for (KeyType t : accepted) expected += (expected.empty() ? "" : " or ") + std::string(KeyTypeLine(t));
    if (info == nullptr) throw Error(path + ": not an Outpost key file (expected " + expected + ")");
    bool wanted = false;
    for (KeyType t : accepted) wanted = wanted || t == info->type;
    if (!wanted) throw Error(path + ": is a " + info->line + ", expected " + expected);
    if (info->secret && (st.st_mode & 077) != 0)
      throw Error(path + ": secret key is readable by group or others (mode " +
                  std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                  std::to_string(st.st_mode & 7) + "); run chmod 600 on it");
    std::string b64 = nl == std::string::npos ? std::string() : text.substr(nl + 1);
    while (!b64.empty() && (b64.back() == '\n' || b64.back() == '\r')) b64.pop_back();
    Expected<std::vector<uint8_t>> bytes = FromBase64(b64);
    sodium_memzero(b64.data(), b64.size());
    if (!bytes) throw Error(path + ": key is not valid base64");
    if (bytes->size() != info->bytes)
      throw Error(path + ": key has " + std::to_string(bytes->size()) + " bytes, a " + info->line +
                  " has " + std::to_string(info->bytes));
    return Key(info->type, std::move(bytes.value()));
  });
}

}  // namespace outpost::package
