#include "pipeline/actions/jsonl_action.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pipeline/actions/sigpipe_guard.h"

namespace outpost::pipeline {

std::unique_ptr<JsonlAction> JsonlAction::Stdout() {
  return std::unique_ptr<JsonlAction>(new JsonlAction(STDOUT_FILENO, false, "stdout"));
}

Expected<std::unique_ptr<JsonlAction>> JsonlAction::OpenFile(const std::string& path) {
  // Close-on-exec, so commands run by other actions do not inherit the file.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error("cannot open " + path + " for appending: " + std::strerror(errno));
  return std::unique_ptr<JsonlAction>(new JsonlAction(fd, true, "file " + path));
}

JsonlAction::~JsonlAction() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

Expected<Unit> JsonlAction::Emit(std::string_view json) {
  if (fd_ < 0) return Error("closed");
  char newline = '\n';
  iovec parts[2] = {{const_cast<char*>(json.data()), json.size()}, {&newline, 1}};
  const size_t total = json.size() + 1;
  size_t done = 0;
  SigpipeGuard guard;  // a closed pipe on stdout is an EPIPE error, not the end of the process
  while (done < total) {
    const ssize_t n = ::writev(fd_, parts, 2);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(std::string("write failed: ") + std::strerror(errno));
    }
    if (n == 0) return Error("write failed: nothing written");
    done += static_cast<size_t>(n);
    // A short write: advance the two parts past what was written.
    size_t skip = static_cast<size_t>(n);
    for (iovec& p : parts) {
      const size_t s = skip < p.iov_len ? skip : p.iov_len;
      p.iov_base = static_cast<char*>(p.iov_base) + s;
      p.iov_len -= s;
      skip -= s;
    }
  }
  bytes_sent_ += total;
  return Unit{};
}

Expected<Unit> JsonlAction::Close() {
  if (fd_ < 0 || !owned_) return Unit{};
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return Error(std::string("close failed: ") + std::strerror(errno));
  return Unit{};
}

}  // namespace outpost::pipeline
