#include "tests/cli/cli_runner.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace outpost::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

std::vector<std::string> CliResult::err_lines() const {
  std::vector<std::string> lines;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

namespace {

// Runs `args` with stdin from `stdin_path`.
CliResult RunWithStdin(const std::vector<std::string>& args, const char* stdin_path) {
  // Output goes to files rather than pipes: no deadlock however much the child prints.
  char out_path[] = "/tmp/outpost_cli_out_XXXXXX";
  char err_path[] = "/tmp/outpost_cli_err_XXXXXX";
  const int out_fd = ::mkstemp(out_path);
  const int err_fd = ::mkstemp(err_path);
  CliResult r;
  if (out_fd < 0 || err_fd < 0) return r;
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    const int null_fd = ::open(stdin_path, O_RDONLY);
    ::dup2(null_fd, STDIN_FILENO);
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out_fd);
  ::close(err_fd);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  ::unlink(out_path);
  ::unlink(err_path);
  return r;
}

}  // namespace

CliResult RunProgram(const std::vector<std::string>& args) { return RunWithStdin(args, "/dev/null"); }

CliResult RunOutpost(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {OUTPOST_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv);
}

CliResult RunProgramWithInput(const std::vector<std::string>& argv, const std::string& input) {
  char in_path[] = "/tmp/outpost_cli_in_XXXXXX";
  const int in_fd = ::mkstemp(in_path);
  if (in_fd < 0) return {};
  const bool written = ::write(in_fd, input.data(), input.size()) == static_cast<ssize_t>(input.size());
  ::close(in_fd);
  CliResult r;
  if (written) r = RunWithStdin(argv, in_path);
  ::unlink(in_path);
  return r;
}

CliResult RunOutpostWithInput(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv = {OUTPOST_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgramWithInput(argv, input);
}

}  // namespace outpost::testing
