// `outpost fleet serve` as a child process, for the tests of the real command: it is started
// with the given options, its stdout is read until it prints the URL it listens on, its stderr
// goes to a file, and the test signals it and collects how it ended. An httplib client per
// call talks to it. A server still running when the object goes is killed (SIGKILL), and the
// child is also killed if the test program dies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.h"
#include "tests/fleet/server/server_fixture.h"

namespace outpost::fleet::testing {

class ServeProcess {
 public:
  ServeProcess() = default;
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Runs OUTPOST_BIN fleet serve `args`; does not wait.
  void Spawn(const std::vector<std::string>& args);
  // Waits for the first line on stdout (the URL, http:// or https://). False when the process ended first or the
  // deadline passed; error() then says which, with its stderr.
  bool WaitUntilListening(std::chrono::milliseconds deadline = std::chrono::seconds(30));

  void Signal(int signal_number);
  // Waits for the process to end; false when it is still running at the deadline.
  bool WaitForExit(std::chrono::milliseconds deadline = std::chrono::seconds(30));
  // For a run expected to fail: waits for the end (killing the server if it is still running
  // at the deadline) and returns it as a CLI result, stdout included, for tests/cli/cli_expect.h.
  outpost::testing::CliResult Finish(std::chrono::milliseconds deadline = std::chrono::seconds(30));

  // One HTTP request to the server; status 0 when there was no answer.
  Reply Send(const std::string& method, const std::string& path, const std::string& token,
             const std::string& body = "", const std::string& content_type = "application/json",
             const httplib::Headers& extra = {}) const;
  Reply Admin(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) const;

  bool running() const { return pid_ > 0 && !exited_; }
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  int exit_code() const { return exit_code_; }   // -1 unless it exited normally
  int exit_signal() const { return exit_signal_; }  // 0 unless a signal ended it
  std::string stderr_text() const;
  std::string error() const { return error_; }

 private:
  bool Reap(bool block);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_path_;
  std::string stdout_text_;
  std::string url_;
  int port_ = 0;
  bool exited_ = false;
  int exit_code_ = -1;
  int exit_signal_ = 0;
  std::string error_;
};

// Polls `condition` every few milliseconds until it holds or `deadline` passes (no event to
// wait on: the state is in another process). Returns whether it held.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds deadline = std::chrono::seconds(20));

// A package of big_add `version` signed with `secret`, about `model_bytes` large.
std::vector<uint8_t> SignedPackage(const std::string& version, const package::Key& secret, size_t model_bytes = 4096);

// Writes the admin token file and the public key of `keys` into `dir` (admin-token, fleet.pub).
void WriteServerFiles(const std::string& dir, const package::KeyPair& keys);

// One telemetry record of big_add `version` with sequence number `seq`.
nlohmann::json TelemetryJson(int64_t seq, int64_t time_ms, const std::string& version);

int64_t WallClockMs();

}  // namespace outpost::fleet::testing
