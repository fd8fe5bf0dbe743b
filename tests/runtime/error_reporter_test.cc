// The core's own message formatter against the C library's printf, on the conversions the
// runtime uses, at the edges of each integer width.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

#include "runtime/error_reporter.h"

namespace outpost {
namespace {

template <typename... Args>
std::string Libc(const char* fmt, Args... args) {
  char buf[ErrorReporter::kCapacity];
  std::snprintf(buf, sizeof(buf), fmt, args...);
  return buf;
}

TEST(ErrorReporter, UnsignedLongLongMatchesPrintfAtTheEdges) {
  const unsigned long long values[] = {0ull,
                                       1ull,
                                       9ull,
                                       10ull,
                                       99ull,
                                       100ull,
                                       4294967295ull,
                                       4294967296ull,
                                       9999999999999999999ull,
                                       10000000000000000000ull,
                                       std::numeric_limits<unsigned long long>::max() - 1,
                                       std::numeric_limits<unsigned long long>::max()};
  for (unsigned long long v : values) {
    ErrorReporter r;
    EXPECT_EQ(r.Report(Status::kCorruptModel, "n=%llu.", v), Status::kCorruptModel);
    EXPECT_EQ(std::string(r.message()), Libc("n=%llu.", v)) << v;
  }
}

TEST(ErrorReporter, UnsignedLongLongMatchesPrintfOnRandomValues) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    // Every magnitude: shift a random value right by a random amount.
    const unsigned long long v = rng() >> (rng() % 64);
    ErrorReporter r;
    r.Report(Status::kInternal, "%llu", v);
    ASSERT_EQ(std::string(r.message()), Libc("%llu", v)) << v;
  }
}

TEST(ErrorReporter, SignedConversionsMatchPrintf) {
  const long long values[] = {0, -1, 1, -10, std::numeric_limits<long long>::min(),
                              std::numeric_limits<long long>::max()};
  for (long long v : values) {
    ErrorReporter r;
    r.Report(Status::kInternal, "%lld|%d", v, static_cast<int>(v % 1000));
    EXPECT_EQ(std::string(r.message()), Libc("%lld|%d", v, static_cast<int>(v % 1000))) << v;
  }
}

}  // namespace
}  // namespace outpost
