#include "io/mapped_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tests/io/test_models.h"

namespace outpost::io {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("mapped"); }
  std::string dir_;
};

TEST_F(MappedFileTest, MapsAligned) {
  testing::WriteBytes(dir_ + "/a", {1, 2, 3});
  Expected<MappedFile> f = MappedFile::Open(dir_ + "/a");
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ(f->size(), 3u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f->data()) % 64, 0u);
  EXPECT_EQ(f->data()[2], 3);
  MappedFile moved = std::move(f.value());
  EXPECT_EQ(moved.data()[0], 1);
}

TEST_F(MappedFileTest, ClearErrors) {
  EXPECT_EQ(MappedFile::Open(dir_ + "/missing").message(), dir_ + "/missing: no such file");
  EXPECT_EQ(MappedFile::Open(dir_).message(), dir_ + ": is a directory, not a file");
  testing::WriteBytes(dir_ + "/empty", {});
  EXPECT_EQ(MappedFile::Open(dir_ + "/empty").message(), dir_ + "/empty: file is empty");
  EXPECT_NE(MappedFile::Open("/dev/null").message().find("not a regular file"), std::string::npos);
  if (::geteuid() != 0) {  // root reads anything
    testing::WriteBytes(dir_ + "/secret", {1});
    ::chmod((dir_ + "/secret").c_str(), 0);
    EXPECT_NE(MappedFile::Open(dir_ + "/secret").message().find("cannot open"), std::string::npos);
  }
}

TEST_F(MappedFileTest, WriteFileAtomicCreatesAndReplaces) {
  const std::string path = dir_ + "/out.bin";
  ASSERT_TRUE(WriteFileAtomic(path, std::string_view("first")).ok());
  EXPECT_EQ(*ReadTextFile(path), "first");
  ASSERT_TRUE(WriteFileAtomic(path, std::string_view("second, longer")).ok());
  EXPECT_EQ(*ReadTextFile(path), "second, longer");
  EXPECT_EQ(Listing(dir_), std::vector<std::string>{"out.bin"});  // no temporary left
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_NE(st.st_mode & S_IRGRP, 0u) << "normal permissions, not mkstemp's 0600";
}

TEST_F(MappedFileTest, WriteFileAtomicFailsCleanlyWhereItCannotCreate) {
  Expected<Unit> r = WriteFileAtomic("/proc/outpost_cannot_write_here.opm", std::string_view("x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message().rfind("/proc/outpost_cannot_write_here.opm: ", 0), 0u) << r.message();
  r = WriteFileAtomic(dir_ + "/no/such/dir/x.opm", std::string_view("x"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("directory does not exist"), std::string::npos) << r.message();
  r = WriteFileAtomic(dir_, std::string_view("x"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("is a directory"), std::string::npos) << r.message();
  if (::geteuid() != 0) {
    const std::string ro = dir_ + "/readonly";
    fs::create_directory(ro);
    ::chmod(ro.c_str(), 0555);
    r = WriteFileAtomic(ro + "/x.opm", std::string_view("x"));
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(Listing(ro).empty());
    ::chmod(ro.c_str(), 0755);
  }
}

// A write that fails half-way (here: the file size limit, which behaves like a full disk and
// works even for root) must leave neither a partial output nor the temporary file, and must
// not touch an existing file.
TEST_F(MappedFileTest, WriteFileAtomicLeavesNothingOnMidWriteFailure) {
  const std::string path = dir_ + "/model.opm";
  ASSERT_TRUE(WriteFileAtomic(path, std::string_view("original")).ok());

  struct rlimit old_limit;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::vector<uint8_t> big(1 << 20, 0xab);
  Expected<Unit> r = WriteFileAtomic(path, big);
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message().rfind(path + ": cannot write: ", 0), 0u) << r.message();
  EXPECT_EQ(*ReadTextFile(path), "original");
  EXPECT_EQ(Listing(dir_), std::vector<std::string>{"model.opm"});
}

}  // namespace
}  // namespace outpost::io
