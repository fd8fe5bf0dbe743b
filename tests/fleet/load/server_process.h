// `outpost fleet serve` as a child process: started with its arguments, its URL read from the
// first line it prints, its peak memory and CPU read from /proc while it runs, stopped with
// SIGTERM (it lets running requests finish). Its stderr goes to a log file whose tail explains
// a failed start (a port in use, a database that cannot be opened).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::fleet::load {

class ServerProcess {
 public:
  // Runs `binary args...` and waits up to `start_timeout_s` for the URL line.
  static Expected<ServerProcess> Start(const std::string& binary, const std::vector<std::string>& args,
                                       const std::string& log_path, double start_timeout_s = 30);
  ServerProcess(ServerProcess&& other) noexcept;
  ServerProcess& operator=(ServerProcess&&) = delete;
  ~ServerProcess();

  const std::string& url() const { return url_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // VmHWM of the running process in KiB (0 when unreadable).
  int64_t PeakRssKib() const;
  // User + system CPU seconds used so far.
  double CpuSeconds() const;
  // SIGTERM, then waits (SIGKILL after `grace_s`); returns its exit status as a message on error.
  Expected<Unit> Stop(double grace_s = 30);

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  std::string url_;
  int port_ = 0;
  std::string log_path_;
};

// The last `max_bytes` of a file (a log), or "".
std::string FileTail(const std::string& path, size_t max_bytes = 2000);

}  // namespace outpost::fleet::load
