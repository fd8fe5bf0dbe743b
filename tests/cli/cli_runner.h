// Runs the built `outpost` binary as a child process and captures its exit status and output.
#pragma once

#include <string>
#include <vector>

namespace outpost::testing {

struct CliResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that killed it, if any
  std::string out;
  std::string err;

  // Lines of stderr (without the trailing newline).
  std::vector<std::string> err_lines() const;
};

// Runs `argv` (argv[0] is looked up on PATH when it holds no '/'; no shell involved, stdin
// from /dev/null), waiting for it to finish.
CliResult RunProgram(const std::vector<std::string>& argv);

// Runs OUTPOST_BIN with `args`.
CliResult RunOutpost(const std::vector<std::string>& args);

// The same with `input` as the child's stdin (read from a temporary file: the child sees end of
// input after the last byte).
CliResult RunProgramWithInput(const std::vector<std::string>& argv, const std::string& input);
CliResult RunOutpostWithInput(const std::vector<std::string>& args, const std::string& input);

}  // namespace outpost::testing
