#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "pipeline/actions/command_action.h"
#include "pipeline/actions/jsonl_action.h"
#include "pipeline/runner/factories.h"

namespace outpost::pipeline {
namespace {

namespace fs = std::filesystem;

class LocalActions : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("outpost_actions_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  fs::path dir_;
};

TEST_F(LocalActions, FileAppendsOneLinePerEvent) {
  const fs::path file = dir_ / "out.jsonl";
  std::ofstream(file) << "{\"old\": 1}\n";
  Expected<std::unique_ptr<Action>> a =
      MakeAction({{"type", "file"}, {"path", "out.jsonl"}}, dir_.string());
  ASSERT_TRUE(a.ok()) << a.message();
  ASSERT_TRUE((*a)->Emit(R"({"frame": 0})").ok());
  ASSERT_TRUE((*a)->Emit(R"({"frame": 1})").ok());
  EXPECT_EQ(Read(file), "{\"old\": 1}\n{\"frame\": 0}\n{\"frame\": 1}\n");  // flushed per line
  EXPECT_EQ((*a)->bytes_sent(), 26u);
  EXPECT_TRUE((*a)->Close().ok());
  EXPECT_EQ((*a)->Describe(), "file " + (dir_ / "out.jsonl").string());
}

TEST_F(LocalActions, AFullDiskIsAnErrorNotACrash) {
  Expected<std::unique_ptr<JsonlAction>> a = JsonlAction::OpenFile("/dev/full");
  ASSERT_TRUE(a.ok()) << a.message();
  for (int i = 0; i < 3; ++i) {
    Expected<Unit> r = (*a)->Emit(R"({"frame": 0})");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("No space left on device"), std::string::npos) << r.message();
  }
  EXPECT_EQ((*a)->bytes_sent(), 0u);
}

TEST_F(LocalActions, FactoryErrors) {
  Expected<std::unique_ptr<Action>> unknown = MakeAction({{"type", "pigeon"}}, "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.message(), "unknown action type 'pigeon' (known: stdout, file, command)");
  EXPECT_FALSE(MakeAction({{"type", "file"}}, "").ok());
  EXPECT_FALSE(MakeAction({{"type", "file"}, {"path", "/no/such/dir/x"}}, "").ok());
  Expected<std::unique_ptr<Action>> typo = MakeAction({{"type", "stdout"}, {"pth", 1}}, "");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.message().find("unknown option 'pth'"), std::string::npos);
  EXPECT_FALSE(MakeAction({{"type", "command"}, {"run", nlohmann::json::array()}}, "").ok());
  EXPECT_FALSE(MakeAction({{"type", "command"}, {"run", nlohmann::json::array({"no-such-program-xyz"})}}, "").ok());
}

TEST_F(LocalActions, AnExtensionIsTriedFirst) {
  ActionFactoryExtension ext;
  ext.types = {"mqtt"};
  int made = 0;
  ext.make = [&](const nlohmann::json&, const std::string&) -> Expected<std::unique_ptr<Action>> {
    ++made;
    return std::unique_ptr<Action>(JsonlAction::Stdout());
  };
  EXPECT_TRUE(MakeAction({{"type", "mqtt"}}, "", &ext).ok());
  EXPECT_EQ(made, 1);
  Expected<std::unique_ptr<Action>> unknown = MakeAction({{"type", "http"}}, "", &ext);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("known: mqtt, stdout, file, command"), std::string::npos);
}

TEST_F(LocalActions, CommandGetsTheEventOnStdin) {
  const fs::path out = dir_ / "cat.txt";
  // The path is an argument of the script, never part of it: argv only, no injection.
  Expected<std::unique_ptr<Action>> a = MakeAction(
      {{"type", "command"}, {"run", {"/bin/sh", "-c", "/bin/cat >> \"$1\"", "sh", out.string()}}},
      "");
  ASSERT_TRUE(a.ok()) << a.message();
  ASSERT_TRUE((*a)->Emit(R"({"frame": 7})").ok());
  ASSERT_TRUE((*a)->Close().ok());
  EXPECT_EQ(Read(out), "{\"frame\": 7}\n");
  EXPECT_EQ((*a)->bytes_sent(), 13u);
}

TEST_F(LocalActions, CommandArgumentsAreNotInterpreted) {
  const fs::path out = dir_ / "args.txt";
  const std::string hostile = "$(touch " + (dir_ / "pwned").string() + "); `id`";
  Expected<std::unique_ptr<Action>> a = MakeAction(
      {{"type", "command"},
       {"run", {"/bin/sh", "-c", "printf '%s' \"$1\" > \"$2\"", "sh", hostile, out.string()}}},
      "");
  ASSERT_TRUE(a.ok()) << a.message();
  ASSERT_TRUE((*a)->Emit("{}").ok());
  ASSERT_TRUE((*a)->Close().ok());
  EXPECT_EQ(Read(out), hostile);
  EXPECT_FALSE(fs::exists(dir_ / "pwned"));
}

TEST_F(LocalActions, BusyCommandSkipsEventsAndTimesOut) {
  Expected<std::unique_ptr<CommandAction>> a =
      CommandAction::Create({"/bin/sleep", "10"}, std::chrono::milliseconds(200));
  ASSERT_TRUE(a.ok()) << a.message();
  ASSERT_TRUE((*a)->Emit("{}").ok());
  Expected<Unit> second = (*a)->Emit("{}");
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.message().find("still busy: event skipped"), std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  Expected<Unit> closed = (*a)->Close();
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(closed.ok());
  EXPECT_NE(closed.message().find("timed out after 200 ms"), std::string::npos)
      << closed.message();
  EXPECT_LT(waited, 2.0);
}

TEST_F(LocalActions, FailingCommandIsReported) {
  Expected<std::unique_ptr<CommandAction>> a =
      CommandAction::Create({"/bin/sh", "-c", "exit 3"}, std::chrono::milliseconds(2000));
  ASSERT_TRUE(a.ok()) << a.message();
  ASSERT_TRUE((*a)->Emit("{}").ok());
  Expected<Unit> closed = (*a)->Close();
  ASSERT_FALSE(closed.ok());
  EXPECT_NE(closed.message().find("exited with status 3"), std::string::npos) << closed.message();
}

}  // namespace
}  // namespace outpost::pipeline
