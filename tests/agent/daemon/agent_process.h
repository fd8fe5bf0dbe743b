// `outpost agent run` (or any command) as a child process for the daemon tests: its stdout and
// stderr go to one log file, it dies with the test (a crashed test leaves no agent behind), and
// it can run under a file size limit, so that writes fail with EFBIG as on a full disk.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace outpost::agent::testing {

class AgentProcess {
 public:
  AgentProcess() = default;
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;
  ~AgentProcess();  // SIGKILL and reap when still running

  // argv[0] is looked up in PATH when it has no slash. max_file_bytes > 0: RLIMIT_FSIZE for the
  // child, SIGXFSZ ignored. Returns false when fork failed.
  bool Spawn(std::vector<std::string> argv, const std::string& log_path, rlim_t max_file_bytes = 0);
  // Signals the child and waits up to 20 s for it: its exit code, or -1 when it did not exit
  // normally in time.
  int Stop(int signal_number);
  pid_t pid() const { return pid_; }
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// The state lives in another process: polled every 20 ms until it holds or the deadline passes.
bool AwaitCondition(const std::function<bool()>& condition, std::chrono::seconds deadline);

}  // namespace outpost::agent::testing
