#include "tests/fleet/server/serve_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>

#include "package/pack.h"
#include "tests/io/test_models.h"

namespace outpost::fleet::testing {

ServeProcess::~ServeProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    Reap(true);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  if (!stderr_path_.empty()) ::unlink(stderr_path_.c_str());
}

void ServeProcess::Spawn(const std::vector<std::string>& args) {
  char err_path[] = "/tmp/outpost_serve_err_XXXXXX";
  const int err_fd = ::mkstemp(err_path);
  ASSERT_GE(err_fd, 0);
  stderr_path_ = err_path;
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  std::vector<std::string> copy = {OUTPOST_BIN, "fleet", "serve"};
  copy.insert(copy.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  ASSERT_GE(pid_, 0);
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test leaves no server behind
    if (::getppid() != parent) std::_Exit(126);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, STDIN_FILENO);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  ::close(out[1]);
  ::close(err_fd);
  stdout_fd_ = out[0];
}

bool ServeProcess::Reap(bool block) {
  if (exited_) return true;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r != pid_) return false;
  exited_ = true;
  if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) exit_signal_ = WTERMSIG(status);
  return true;
}

bool ServeProcess::WaitUntilListening(std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (stdout_text_.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      error_ = "the server printed no URL in time; stderr:\n" + stderr_text();
      return false;
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(stdout_fd_, buf, sizeof(buf));
    if (n <= 0) {  // stdout closed: the process ended
      Reap(true);
      error_ = "the server ended before listening (exit " + std::to_string(exit_code_) + ", signal " +
               std::to_string(exit_signal_) + "); stderr:\n" + stderr_text();
      return false;
    }
    stdout_text_.append(buf, static_cast<size_t>(n));
  }
  url_ = stdout_text_.substr(0, stdout_text_.find('\n'));
  port_ = std::atoi(url_.substr(url_.rfind(':') + 1).c_str());
  if ((url_.rfind("http://127.0.0.1:", 0) != 0 && url_.rfind("https://127.0.0.1:", 0) != 0) || port_ <= 0) {
    error_ = "unexpected first line on stdout: " + url_;
    return false;
  }
  return true;
}

void ServeProcess::Signal(int signal_number) {
  if (running()) ::kill(pid_, signal_number);
}

bool ServeProcess::WaitForExit(std::chrono::milliseconds deadline) {
  return WaitFor([this] { return Reap(false); }, deadline);
}

outpost::testing::CliResult ServeProcess::Finish(std::chrono::milliseconds deadline) {
  if (!WaitForExit(deadline)) {
    ADD_FAILURE() << "still running after " << deadline.count() << " ms; killed";
    ::kill(pid_, SIGKILL);
    Reap(true);
  }
  char buf[512];
  for (ssize_t n; (n = ::read(stdout_fd_, buf, sizeof(buf))) > 0;) stdout_text_.append(buf, static_cast<size_t>(n));
  outpost::testing::CliResult r;
  r.exit_code = exit_code_;
  r.signal = exit_signal_;
  r.out = stdout_text_;
  r.err = stderr_text();
  return r;
}

std::string ServeProcess::stderr_text() const {
  std::ifstream f(stderr_path_, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

Reply ServeProcess::Send(const std::string& method, const std::string& path, const std::string& token,
                         const std::string& body, const std::string& content_type,
                         const httplib::Headers& extra) const {
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(20, 0);
  return SendRequest(client, method, path, token, body, content_type, extra);
}

Reply ServeProcess::Admin(const std::string& method, const std::string& path, const nlohmann::json& body) const {
  return Send(method, path, kAdminToken, body.is_null() ? "" : body.dump());
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<uint8_t> SignedPackage(const std::string& version, const package::Key& secret, size_t model_bytes) {
  package::PackOptions o;
  o.version = version;
  o.created = "2026-01-02T03:04:05Z";
  o.accuracy = 0.91;
  Expected<std::vector<uint8_t>> p = package::PackModel(outpost::testing::BigAddModelOpm(model_bytes), secret, o);
  EXPECT_TRUE(p.ok()) << p.message();
  return p.ok() ? *p : std::vector<uint8_t>{};
}

void WriteServerFiles(const std::string& dir, const package::KeyPair& keys) {
  ASSERT_TRUE(package::WriteKeyFile(dir + "/fleet.pub", keys.public_key).ok());
  std::ofstream(dir + "/admin-token") << kAdminToken << "\n";
}

nlohmann::json TelemetryJson(int64_t seq, int64_t time_ms, const std::string& version) {
  return {{"seq", seq},           {"time_ms", time_ms},     {"model", "big_add"},     {"version", version},
          {"inferences", 100},    {"errors", 0},            {"latency_p50_ms", 3.0},  {"latency_p99_ms", 8.0},
          {"temperature_c", 50.0}};
}

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace outpost::fleet::testing
