// Runs a command per event: {"type": "command", "run": ["notify", "--level", "2"],
// "timeout_ms": 5000}. The argument vector is executed directly (fork/exec, no shell, so
// nothing in an event can inject a command); the event JSON is the command's standard input,
// one line. At most one command runs at a time: an event arriving while the previous one still
// runs is skipped (an Error "previous run still busy: event skipped", counted by the runner).
// A command running longer than timeout_ms is killed when the next event arrives or at Close.
// A failed run (non-zero exit, killed) is reported by the Emit or Close that notices it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"
#include "pipeline/core/action.h"

namespace outpost::pipeline {

class CommandAction : public Action {
 public:
  // `argv[0]` is a path, or a program name looked up in PATH now (not per event).
  static Expected<std::unique_ptr<CommandAction>> Create(std::vector<std::string> argv,
                                                         std::chrono::milliseconds timeout);
  ~CommandAction() override;

  Expected<Unit> Emit(std::string_view json) override;
  // Waits for a running command (up to the timeout, then kills it).
  Expected<Unit> Close() override;
  std::string Describe() const override;

 private:
  CommandAction(std::string program, std::vector<std::string> argv,
                std::chrono::milliseconds timeout);
  // Collects a finished command (or kills one past its timeout, waiting when `wait`); sets
  // `busy` when it still runs. Errors describe how the previous run failed.
  Expected<Unit> Reap(bool wait, bool& busy);

  std::string program_;
  std::vector<std::string> argv_;
  std::vector<char*> argv_ptrs_;  // built once: the child may not allocate between fork and exec
  std::chrono::milliseconds timeout_;
  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace outpost::pipeline
