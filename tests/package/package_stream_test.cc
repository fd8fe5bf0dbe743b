// Verifying a 50 MB package streams it: peak memory grows by far less than the package size.
// Measured in a child process (its peak RSS is its own, and /proc/self/clear_refs resets it).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "package/pack.h"
#include "package/verify.h"
#include "tests/io/test_models.h"
#include "tests/package/package_fixtures.h"

namespace outpost::package {
namespace {

constexpr size_t kModelBytes = 52 << 20;

// A field of /proc/self/status in KiB ("VmHWM", "VmRSS").
long StatusKiB(const std::string& field) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

TEST(PackageStreamTest, VerifyingA50MBPackageUsesBoundedMemory) {
  const KeyPair k = testing::TestSigningPair();
  const std::string dir = testing::MakeTempDir("package_stream");
  const std::string path = dir + "/big.opk";
  {
    PackOptions o;
    o.version = "1.0.0";
    const std::vector<uint8_t> pkg = PackModel(testing::BigAddModelOpm(kModelBytes), k.secret, o).value();
    ASSERT_GE(pkg.size(), 50u << 20);
    testing::WriteBytes(path, pkg);
  }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Reset the peak to the current RSS so only what verification adds is measured.
    { std::ofstream("/proc/self/clear_refs") << "5"; }
    const long before = std::max(StatusKiB("VmHWM"), StatusKiB("VmRSS"));
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = VerifyPackageFile(path, k.public_key).ok();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const long growth = StatusKiB("VmHWM") - before;
    char msg[128];
    const int n = std::snprintf(msg, sizeof(msg), "%d %ld %.1f", ok ? 1 : 0, growth, ms);
    (void)!::write(fds[1], msg, static_cast<size_t>(n));
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[128] = {};
  (void)!::read(fds[0], buf, sizeof(buf) - 1);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  int ok = 0;
  long growth_kib = -1;
  double ms = 0;
  ASSERT_EQ(std::sscanf(buf, "%d %ld %lf", &ok, &growth_kib, &ms), 3) << buf;
  EXPECT_EQ(ok, 1);
  std::printf("verified a %zu MiB package in %.1f ms, peak memory grew by %ld KiB\n", kModelBytes >> 20, ms,
              growth_kib);
  // The package is 52 MiB; streaming keeps one 1 MiB read buffer (plus allocator slack).
  EXPECT_GE(growth_kib, 0);
  EXPECT_LT(growth_kib, 8 * 1024);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace outpost::package
