#include "fleet/server/artifact_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace outpost::fleet {
namespace {

namespace fs = std::filesystem;

const char* Subdir(ArtifactKind kind) { return kind == ArtifactKind::kPackage ? "artifacts" : "deltas"; }

Error SystemError(const std::string& what, const std::string& path) {
  return Error("fleet: cannot " + what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Expected<ArtifactStore> ArtifactStore::Open(const std::string& data_dir) {
  if (data_dir.empty()) return Error("fleet: no data directory given");
  for (const char* sub : {"artifacts", "deltas", "tmp"}) {
    std::error_code ec;
    fs::create_directories(fs::path(data_dir) / sub, ec);
    if (ec) return Error("fleet: cannot create " + (fs::path(data_dir) / sub).string() + ": " + ec.message());
  }
  return ArtifactStore(data_dir);
}

std::string ArtifactStore::PathOf(ArtifactKind kind, const std::string& digest) const {
  return (fs::path(dir_) / Subdir(kind) / digest).string();
}

bool ArtifactStore::Exists(ArtifactKind kind, const std::string& digest) const {
  struct stat st;
  return ::stat(PathOf(kind, digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

ArtifactStore::Writer::Writer(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
  crypto_generichash_init(&hash_, nullptr, 0, 32);
}

ArtifactStore::Writer::Writer(Writer&& o) noexcept
    : path_(std::move(o.path_)), fd_(o.fd_), size_(o.size_), committed_(o.committed_), hash_(o.hash_) {
  o.fd_ = -1;
  o.committed_ = true;  // the moved-from object owns no file any more
}

ArtifactStore::Writer::~Writer() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !path_.empty()) ::unlink(path_.c_str());
}

Expected<Unit> ArtifactStore::Writer::Append(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  crypto_generichash_update(&hash_, p, n);
  size_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(fd_, p + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return SystemError("write", path_);
    }
    done += static_cast<size_t>(w);
  }
  size_ += static_cast<int64_t>(n);
  return Unit{};
}

Expected<std::string> ArtifactStore::Writer::Finish() {
  if (::fsync(fd_) != 0) return SystemError("fsync", path_);
  ::close(fd_);
  fd_ = -1;
  unsigned char digest[32];
  crypto_generichash_final(&hash_, digest, sizeof(digest));
  char hex[65];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return std::string(hex);
}

Expected<ArtifactStore::Writer> ArtifactStore::NewWriter() const {
  std::string templ = (fs::path(dir_) / "tmp" / "upload-XXXXXX").string();
  const int fd = ::mkstemp(templ.data());
  if (fd < 0) return SystemError("create a file in", (fs::path(dir_) / "tmp").string());
  return Writer(templ, fd);
}

Expected<Unit> ArtifactStore::Commit(Writer& writer, ArtifactKind kind, const std::string& digest) const {
  const std::string target = PathOf(kind, digest);
  if (::rename(writer.path_.c_str(), target.c_str()) != 0) return SystemError("rename to", target);
  writer.committed_ = true;
  const std::string dir = (fs::path(dir_) / Subdir(kind)).string();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Unit{};
}

Expected<std::string> ArtifactStore::Put(ArtifactKind kind, std::span<const uint8_t> bytes) const {
  Expected<Writer> w = NewWriter();
  if (!w.ok()) return w.error();
  if (Expected<Unit> a = w->Append(bytes.data(), bytes.size()); !a.ok()) return a.error();
  Expected<std::string> digest = w->Finish();
  if (!digest.ok()) return digest.error();
  if (Expected<Unit> c = Commit(*w, kind, *digest); !c.ok()) return c.error();
  return *digest;
}

}  // namespace outpost::fleet
