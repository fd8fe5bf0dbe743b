// Checks shared by the CLI tests on how `outpost` reports a result: success, or exactly the
// documented failure shape (exit code, one "outpost: error: ..." line, nothing on stdout).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/cli/cli_runner.h"

namespace outpost::testing {

// Which stderr line holds the error: the only one, or the last after progress lines.
enum class ErrorLine { kOnly, kLast };

inline void ExpectError(const CliResult& r, const std::string& needle, int code = 1,
                        ErrorLine where = ErrorLine::kOnly) {
  EXPECT_EQ(r.signal, 0) << "crashed with signal " << r.signal;
  EXPECT_EQ(r.exit_code, code) << r.err;
  const std::vector<std::string> lines = r.err_lines();
  if (where == ErrorLine::kOnly) {
    ASSERT_EQ(lines.size(), 1u) << r.err;
  } else {
    ASSERT_FALSE(lines.empty());
  }
  const std::string& line = lines.back();
  EXPECT_EQ(line.rfind("outpost: error: ", 0), 0u) << r.err;
  EXPECT_NE(line.find(needle), std::string::npos) << line;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// For commands that print progress on stderr before failing.
inline void ExpectErrorAfterProgress(const CliResult& r, const std::string& needle, int code = 1) {
  ExpectError(r, needle, code, ErrorLine::kLast);
}

inline void ExpectOk(const CliResult& r) {
  EXPECT_EQ(r.signal, 0) << "crashed with signal " << r.signal;
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace outpost::testing
