#include "pipeline/actions/command_action.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "pipeline/actions/sigpipe_guard.h"

namespace outpost::pipeline {
namespace {

Expected<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0)
      return Error("command '" + name + "': not an executable file");
    return name;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return Error("command '" + name + "': not found in PATH");
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

}  // namespace

Expected<std::unique_ptr<CommandAction>> CommandAction::Create(std::vector<std::string> argv,
                                                               std::chrono::milliseconds timeout) {
  if (argv.empty() || argv[0].empty()) return Error("command: \"run\" needs a program");
  if (timeout.count() <= 0) return Error("command: timeout_ms must be positive");
  Expected<std::string> program = FindProgram(argv[0]);
  if (!program) return program.error();
  return std::unique_ptr<CommandAction>(
      new CommandAction(std::move(program).value(), std::move(argv), timeout));
}

CommandAction::CommandAction(std::string program, std::vector<std::string> argv,
                             std::chrono::milliseconds timeout)
    : program_(std::move(program)), argv_(std::move(argv)), timeout_(timeout) {
  for (std::string& a : argv_) argv_ptrs_.push_back(a.data());
  argv_ptrs_.push_back(nullptr);
}

CommandAction::~CommandAction() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string CommandAction::Describe() const { return "command " + argv_[0]; }

Expected<Unit> CommandAction::Reap(bool wait, bool& busy) {
  busy = false;
  if (pid_ <= 0) return Unit{};
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Unit{};
      return Error(DescribeStatus(status));
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return Error(std::string("waitpid failed: ") + std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() - started_ > timeout_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
      return Error("timed out after " + std::to_string(timeout_.count()) + " ms, killed");
    }
    if (!wait) {
      busy = true;
      return Unit{};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Expected<Unit> CommandAction::Emit(std::string_view json) {
  bool busy = false;
  Expected<Unit> previous = Reap(/*wait=*/false, busy);
  if (busy) return Error("previous run still busy: event skipped");

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Error(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (::dup2(fds[0], STDIN_FILENO) < 0) ::_exit(126);
    ::execv(program_.c_str(), argv_ptrs_.data());
    ::_exit(127);
  }
  ::close(fds[0]);
  pid_ = pid;
  started_ = std::chrono::steady_clock::now();

  // Non-blocking: a command that does not read its input must not stall the pipeline; an event
  // is far smaller than a pipe's buffer, so it is written whole in practice.
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  std::string line(json);
  line += '\n';
  size_t done = 0;
  std::string write_error;
  {
    SigpipeGuard guard;
    while (done < line.size()) {
      const ssize_t n = ::write(fds[1], line.data() + done, line.size() - done);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EPIPE) {
        break;  // the command exited without reading its input: its choice, not a failure
      } else {
        write_error = n < 0 && errno == EAGAIN ? "the command did not read its input"
                                                : std::string(std::strerror(errno));
        break;
      }
    }
  }
  ::close(fds[1]);
  bytes_sent_ += done;
  if (!write_error.empty()) return Error("writing the event: " + write_error);
  if (!previous) return Error("previous run " + previous.message());
  return Unit{};
}

Expected<Unit> CommandAction::Close() {
  bool busy = false;
  Expected<Unit> last = Reap(/*wait=*/true, busy);
  if (!last) return Error("last run " + last.message());
  return Unit{};
}

}  // namespace outpost::pipeline
