// Small helpers shared by the subcommands: error lines, number formatting, aligned tables,
// list parsing and a progress display on stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::cli {

// A mistake in how the command was called (exit code 2), as opposed to a failure doing it.
class UsageError : public Error {
 public:
  using Error::Error;
};

// Prints "outpost: error: MESSAGE" as exactly one line on stderr.
void PrintError(const std::string& message);
// Prints "outpost: warning: MESSAGE" on stderr.
void PrintWarning(const std::string& message);

// Unwraps an Expected or throws its Error (caught and printed by main).
template <typename T>
T Must(Expected<T> e) {
  if (!e.ok()) throw e.error();
  return std::move(e).value();
}

// "1.23 MiB (1290240 B)"-style sizes and "2.35 M" counts.
std::string FormatBytes(uint64_t bytes);
std::string FormatBytesExact(uint64_t bytes);
std::string FormatCount(uint64_t n);
// printf-style "%.<digits>f".
std::string FormatFixed(double v, int digits);
// Shortest round-trippable-ish float text ("%g" with 6 significant digits).
std::string FormatFloat(double v);

// "a,b,c" -> {"a","b","c"}; surrounding spaces trimmed; empty items refused.
std::vector<std::string> SplitList(const std::string& text, const std::string& what);
std::vector<float> ParseFloatList(const std::string& text, const std::string& what);
std::vector<int64_t> ParseIntList(const std::string& text, const std::string& what);

// A text table with aligned columns; `right` marks right-aligned (numeric) columns.
class Table {
 public:
  Table(std::vector<std::string> headers, std::vector<bool> right);
  void AddRow(std::vector<std::string> cells);
  void Print(std::ostream& out, const std::string& indent = "  ") const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

bool StderrIsTerminal();

// Help text of the --threads option of bench, run and eval (0 or absent: one per core).
extern const char kThreadsHelp[];
// Refuses a negative --threads value.
void CheckThreads(int threads);

// Progress on stderr: a redrawn bar when stderr is a terminal, otherwise a line every few
// seconds (so logs of CI jobs stay readable). Silent for runs shorter than `quiet_for`.
class Progress {
 public:
  Progress(std::string label, int64_t total,
           std::chrono::milliseconds quiet_for = std::chrono::milliseconds(500));
  ~Progress();
  void Update(int64_t done);
  // Clears the bar (terminal) or prints a final line if anything was shown.
  void Finish();

 private:
  void Draw(int64_t done, bool final_line);

  std::string label_;
  int64_t total_;
  bool tty_;
  bool shown_ = false;
  bool finished_ = false;
  int64_t last_done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::chrono::milliseconds quiet_for_;
};

}  // namespace outpost::cli
