#include "package/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "package/codec.h"
#include "package/payload_cipher.h"
#include "package/sodium_init.h"

namespace outpost::package {
namespace {

// Bytes read per step while streaming a file.
constexpr size_t kReadChunk = 1 << 20;

// Sequential reads of a package, from a file descriptor or from memory.
class Source {
 public:
  virtual ~Source() = default;
  virtual uint64_t size() const = 0;
  // The next `n` bytes (n <= kReadChunk or the data is in memory); `scratch` may be used.
  virtual std::span<const uint8_t> Next(size_t n, std::vector<uint8_t>& scratch) = 0;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::span<const uint8_t> b) : b_(b) {}
  uint64_t size() const override { return b_.size(); }
  std::span<const uint8_t> Next(size_t n, std::vector<uint8_t>&) override {
    auto s = b_.subspan(at_, n);
    at_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> b_;
  size_t at_ = 0;
};

class FileSource : public Source {
 public:
  FileSource(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FileSource() override { ::close(fd_); }
  uint64_t size() const override { return size_; }
  std::span<const uint8_t> Next(size_t n, std::vector<uint8_t>& scratch) override {
    if (scratch.size() < n) scratch.resize(n);
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::read(fd_, scratch.data() + got, n - got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw Error(path_ + ": cannot read: " + std::strerror(errno));
      if (r == 0) throw Error("package: truncated while reading (the file shrank)");
      got += static_cast<size_t>(r);
    }
    return {scratch.data(), n};
  }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
};

// A short reason why the signature failed: a package that names another signer was most
// likely signed with another key; otherwise its bytes were changed after signing.
std::string SignatureFailure(std::string_view manifest_text, const Key& key) {
  Expected<Manifest> m = ParseManifest(manifest_text);
  if (m && m->signer != key.id())
    return "package: signature check failed: the package names signer key " + m->signer +
           ", the given public key is " + key.id() + " (wrong key?)";
  return "package: signature check failed: the package was modified after it was signed";
}

VerifiedPackage Verify(Source& src, const Key& key) {
  InitSodium();
  if (key.type() != KeyType::kSigningPublic) throw Error("package: verification needs a signing public key");
  std::vector<uint8_t> scratch;
  std::vector<uint8_t> header_bytes;
  {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kHeaderBytes, src.size()));
    auto s = src.Next(n, scratch);
    header_bytes.assign(s.begin(), s.end());
  }
  Expected<PackageHeader> header = DecodeHeader(header_bytes, src.size());
  if (!header) throw header.error();
  const PackageHeader& h = header.value();

  crypto_sign_state sign;
  crypto_sign_init(&sign);
  crypto_sign_update(&sign, header_bytes.data(), header_bytes.size());
  auto manifest_span = src.Next(h.manifest_bytes, scratch);
  std::string manifest_text(manifest_span.begin(), manifest_span.end());
  crypto_sign_update(&sign, manifest_span.data(), manifest_span.size());

  crypto_generichash_state model_hash;
  crypto_generichash_init(&model_hash, nullptr, 0, 32);
  for (uint64_t left = h.payload_bytes; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kReadChunk));
    auto s = src.Next(n, scratch);
    crypto_sign_update(&sign, s.data(), s.size());
    if (!h.encrypted()) crypto_generichash_update(&model_hash, s.data(), s.size());
    left -= n;
  }
  auto sig = src.Next(kSignatureBytes, scratch);
  if (crypto_sign_final_verify(&sign, sig.data(), key.bytes().data()) != 0)
    throw Error(SignatureFailure(manifest_text, key));

  // Signed by the holder of the key from here on; still check everything before trusting it.
  Expected<Manifest> manifest = ParseManifest(manifest_text);
  if (!manifest) throw Error("package: " + manifest.message());
  const Manifest& m = manifest.value();
  if (m.signer != key.id())
    throw Error("package: the manifest names signer " + m.signer + " but is signed by key " + key.id());
  if (m.encryption.has_value() != h.encrypted())
    throw Error("package: the header's encryption flag disagrees with the manifest");
  if (!h.encrypted()) {
    if (h.payload_bytes != m.model_bytes)
      throw Error("package: the model has " + std::to_string(h.payload_bytes) +
                  " bytes, the manifest says " + std::to_string(m.model_bytes));
    uint8_t digest[32];
    crypto_generichash_final(&model_hash, digest, sizeof(digest));
    if (ToHex(digest) != m.model_blake2b)
      throw Error("package: the model's BLAKE2b-256 does not match the manifest");
  } else {
    const Encryption& e = *m.encryption;
    if (m.model_bytes > UINT64_MAX / 2 || CiphertextBytes(m.model_bytes, e.chunk_bytes) != h.payload_bytes)
      throw Error("package: the encrypted payload's size does not match the manifest's model size");
  }
  return {h, std::move(manifest.value()), std::move(manifest_text)};
}

}  // namespace

Expected<VerifiedPackage> VerifyPackageFile(const std::string& path, const Key& signing_public) {
  return Capture([&]() -> VerifiedPackage {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw Error(path + ": not a regular file");
    }
    FileSource src(fd, static_cast<uint64_t>(st.st_size), path);
    return Verify(src, signing_public);
  });
}

Expected<VerifiedPackage> VerifyPackageBytes(std::span<const uint8_t> bytes, const Key& signing_public) {
  return Capture([&]() -> VerifiedPackage {
    MemorySource src(bytes);
    return Verify(src, signing_public);
  });
}

}  // namespace outpost::package
