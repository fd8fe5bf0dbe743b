#include "io/mapped_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>

namespace outpost::io {
namespace {

std::string SysError(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// Closes a descriptor on scope exit unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseNameOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Creates a new file next to `path` with a name no other writer uses. O_EXCL with the usual
// 0666 mode (the process umask applies) so the final file gets normal permissions, which
// mkstemp's 0600 would not give.
int CreateTempFile(const std::string& path, std::string* temp_path) {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  const std::string prefix =
      DirectoryOf(path) + "/." + BaseNameOf(path) + ".tmp." + std::to_string(::getpid()) + ".";
  for (int attempt = 0; attempt < 16; ++attempt) {
    *temp_path = prefix + std::to_string(counter++) + "." + std::to_string(rd() & 0xffffff);
    const int fd = ::open(temp_path->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
}

bool WriteAll(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (w == 0) {
      errno = EIO;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Expected<MappedFile> MappedFile::Open(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Error(path + ": no such file");
    return Error(SysError(path, errno));
  }
  if (S_ISDIR(st.st_mode)) return Error(path + ": is a directory, not a file");
  if (!S_ISREG(st.st_mode)) return Error(path + ": not a regular file");
  if (st.st_size == 0) return Error(path + ": file is empty");
  FdGuard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Error(SysError(path + ": cannot open", errno));
  // Size again from the open descriptor: the file may have changed since stat.
  if (::fstat(fd.get(), &st) != 0) return Error(SysError(path, errno));
  if (st.st_size == 0) return Error(path + ": file is empty");
  void* addr =
      ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) return Error(SysError(path + ": cannot map", errno));
  MappedFile f;
  f.addr_ = addr;
  f.size_ = static_cast<size_t>(st.st_size);
  f.path_ = path;
  return f;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : addr_(other.addr_), size_(other.size_), path_(std::move(other.path_)) {
  other.addr_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    Reset();
    addr_ = other.addr_;
    size_ = other.size_;
    path_ = std::move(other.path_);
    other.addr_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() { Reset(); }

void MappedFile::Reset() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

Expected<Unit> WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes) {
  if (path.empty()) return Error("output path is empty");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return Error(path + ": is a directory");
  std::string temp;
  FdGuard fd(CreateTempFile(path, &temp));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Error(path + ": cannot write: directory does not exist");
    return Error(SysError(path + ": cannot write", errno));
  }
  auto fail = [&](const std::string& what) -> Expected<Unit> {
    const int err = errno;
    if (fd.get() >= 0) ::close(fd.Release());
    ::unlink(temp.c_str());
    return Error(SysError(path + ": " + what, err));
  };
  if (!WriteAll(fd.get(), bytes.data(), bytes.size())) return fail("cannot write");
  if (::fsync(fd.get()) != 0) return fail("cannot sync");
  // close() can report a deferred write error (e.g. on network file systems).
  if (::close(fd.Release()) != 0) return fail("cannot write");
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("cannot replace");
  // Make the rename itself durable. A failure here leaves a complete file: not an error.
  const int dir = ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Unit{};
}

Expected<Unit> WriteFileAtomic(const std::string& path, std::string_view text) {
  return WriteFileAtomic(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Expected<std::string> ReadTextFile(const std::string& path) {
  Expected<MappedFile> f = MappedFile::Open(path);
  if (!f) return f.error();
  return std::string(reinterpret_cast<const char*>(f->data()), f->size());
}

}  // namespace outpost::io
