#include "tests/fleet/load/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace outpost::fleet::load {
namespace {

// Reads /proc/PID/<file> whole.
std::string ProcFile(pid_t pid, const char* file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

}  // namespace

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

Expected<ServerProcess> ServerProcess::Start(const std::string& binary, const std::vector<std::string>& args,
                                             const std::string& log_path, double start_timeout_s) {
  if (access(binary.c_str(), X_OK) != 0) return Error("cannot run the fleet server: " + binary + " is not an executable");
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Error("cannot create a pipe for the fleet server");
  std::vector<std::string> all = {binary};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return Error("cannot fork the fleet server");
  if (pid == 0) {
    dup2(out[1], 1);
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) dup2(log, 2);
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the generator
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  ServerProcess p;
  p.pid_ = pid;
  p.log_path_ = log_path;
  // The server prints its URL once it accepts connections.
  std::string line;
  bool closed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(start_timeout_s);
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd fd{out[0], POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[256];
    const ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0) {  // closed: the server is exiting
      closed = true;
      break;
    }
    line.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  const size_t end = line.find('\n');
  const size_t colon = line.rfind(':', end);
  if (end == std::string::npos || line.rfind("http://", 0) != 0 || colon == std::string::npos) {
    int status = 0;
    std::string how = "did not print its URL within " + std::to_string(static_cast<int>(start_timeout_s)) + " s";
    // A server that closed its output is exiting: give it a moment to be reaped.
    const auto reap_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(closed ? 5 : 0);
    pid_t reaped = waitpid(pid, &status, WNOHANG);
    while (reaped == 0 && std::chrono::steady_clock::now() < reap_deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      reaped = waitpid(pid, &status, WNOHANG);
    }
    if (reaped == pid) {
      how = DescribeExit(status);
    } else {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    p.pid_ = -1;
    std::string log = FileTail(log_path);
    std::string hint;
    if (log.find("cannot listen") != std::string::npos) hint = " (is the port already in use?)";
    return Error("the fleet server " + how + hint + "; its output:\n" + log);
  }
  p.url_ = line.substr(0, end);
  p.port_ = std::atoi(line.c_str() + colon + 1);
  return p;
}

ServerProcess::ServerProcess(ServerProcess&& other) noexcept
    : pid_(other.pid_), url_(std::move(other.url_)), port_(other.port_), log_path_(std::move(other.log_path_)) {
  other.pid_ = -1;
}

ServerProcess::~ServerProcess() { (void)Stop(5); }

int64_t ServerProcess::PeakRssKib() const {
  if (pid_ <= 0) return 0;
  const std::string status = ProcFile(pid_, "status");
  const size_t at = status.find("VmHWM:");
  return at == std::string::npos ? 0 : std::atoll(status.c_str() + at + 6);
}

double ServerProcess::CpuSeconds() const {
  if (pid_ <= 0) return 0;
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
  const std::string stat = ProcFile(pid_, "stat");
  const size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream in(stat.substr(close_paren + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::atoll(field.c_str());
    if (i == 15) stime = std::atoll(field.c_str());
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

Expected<Unit> ServerProcess::Stop(double grace_s) {
  if (pid_ <= 0) return Unit{};
  const pid_t pid = pid_;
  pid_ = -1;
  kill(pid, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  // waitpid has no timeout; the process is polled until the grace period ends.
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Error("the fleet server did not stop within " + std::to_string(static_cast<int>(grace_s)) +
                   " s of SIGTERM and was killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Error("the fleet server " + DescribeExit(status) + " on SIGTERM; its output:\n" + FileTail(log_path_));
  return Unit{};
}

}  // namespace outpost::fleet::load
