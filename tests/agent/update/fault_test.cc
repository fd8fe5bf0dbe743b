// Fault injection: the update engine runs in a child process (agent_fault_driver) that is
// killed with SIGKILL at every named crash point and at random moments, during an update that
// commits (1.0.0 -> 1.1.0, by delta) and one whose health window fails and rolls back
// (1.0.0 -> 1.2.0). After every kill the device directory must boot a model that loads and
// passes its self-test; a restarted driver must then finish the update (or its rollback).
// The device directories live on /dev/shm when there is one: a SIGKILL loses nothing the
// kernel holds, so the result does not depend on fsync, which only makes a disk-backed run
// several times slower.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>

#include "agent/update/crash_point.h"
#include "agent/update/model_check.h"
#include "io/mapped_file.h"
#include "tests/agent/update/agent_fixture.h"

namespace outpost::agent::testing {
namespace {

namespace fs = std::filesystem;

struct Scenario {
  std::string target;        // the desired version
  std::string fail_version;  // the driver reports errors while this version runs
  std::string final_version; // what the device runs once the update is over
  bool delta = true;         // take the server's delta offer
};

class AgentFaultTest : public AgentTest {
 protected:
  // Starts the driver on `device_dir`; with a crash point in its environment when given.
  pid_t Spawn(const std::string& device_dir, const Scenario& s, const std::string& crash_at) {
    const std::vector<std::string> args = {AGENT_FAULT_DRIVER, device_dir, server_->url(), device_.credential,
                                           device_.id, dir_ + "/fleet.pub", s.fail_version,
                                           s.delta ? "delta" : "no-delta"};
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (crash_at.empty()) ::unsetenv("OUTPOST_AGENT_CRASH_AT");
      else ::setenv("OUTPOST_AGENT_CRASH_AT", crash_at.c_str(), 1);
      const int out = ::open((device_dir + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = ::open((device_dir + ".err").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(out, 1);
      ::dup2(err, 2);
      std::vector<char*> argv;
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return pid;
  }
  // Waits for the driver; answers the signal that killed it, or -exit status.
  static int Wait(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFSIGNALED(status)) return WTERMSIG(status);
    return -WEXITSTATUS(status);
  }
  // The working-model rule, as the device applies it at boot.
  bool BootsAWorkingModel(const std::string& device_dir, std::string* why) {
    UpdateEngineOptions o = Options(device_dir);
    Expected<std::unique_ptr<UpdateEngine>> e = UpdateEngine::Open(o, nullptr);
    if (!e.ok()) {
      *why = e.message();
      return false;
    }
    Expected<BootReport> boot = (*e)->Boot();
    if (!boot.ok() || boot->slot.empty()) {
      *why = boot.ok() ? boot->reason : boot.message();
      return false;
    }
    Expected<SelfTestResult> r = CheckModelFile((*e)->ActiveModelPath(), 1);
    if (!r.ok()) *why = r.message();
    return r.ok();
  }
  std::string Output(const std::string& device_dir) {
    Expected<std::string> out = io::ReadTextFile(device_dir + ".out");
    Expected<std::string> err = io::ReadTextFile(device_dir + ".err");
    return (out.ok() ? *out : "") + (err.ok() ? *err : "");
  }
  // Finishes the update with a clean driver run and checks where it ended.
  void ExpectCompletes(const std::string& device_dir, const Scenario& s, const std::string& label) {
    const int code = Wait(Spawn(device_dir, s, ""));
    ASSERT_EQ(code, 0) << label << ": " << Output(device_dir);
    const nlohmann::json out = nlohmann::json::parse(io::ReadTextFile(device_dir + ".out").value());
    EXPECT_EQ(out["version"], s.final_version) << label << ": " << out.dump();
    if (!s.fail_version.empty()) {
      EXPECT_NE(out["failed_versions"].dump().find(s.fail_version), std::string::npos) << label << ": " << out.dump();
    }
  }
};

TEST_P(AgentFaultTest, KillAtEveryPointAndAtRandomLeavesAWorkingModel) {
  Register("1.0.0");
  Register("1.1.0");
  Register("1.2.0");
  // The provisioned device: 1.0.0 installed and committed.
  std::string root = dir_;
  if (fs::is_directory("/dev/shm")) {
    root = "/dev/shm/agent_fault_" + std::to_string(::getpid());
    fs::create_directories(root);
  }
  struct RemoveRoot {
    std::string path, keep;
    ~RemoveRoot() {
      std::error_code ec;
      if (path != keep) fs::remove_all(path, ec);
    }
  } remove_root{root, dir_};
  const std::string base = root + "/template";
  SetDesired("1.0.0");
  ASSERT_EQ(Wait(Spawn(base, {"1.0.0", "", "1.0.0", false}, "")), 0) << Output(base);

  const std::vector<Scenario> scenarios = {{"1.1.0", "", "1.1.0", true}, {"1.2.0", "1.2.0", "1.0.0", false}};
  int runs = 0, kills = 0, not_reached = 0, without_model = 0;
  std::map<std::string, int> kills_per_point;
  auto run_one = [&](const Scenario& s, const std::string& crash_at, int random_delay_us) {
    const std::string device = root + "/run-" + std::to_string(runs++);
    fs::copy(base, device, fs::copy_options::recursive);
    const pid_t pid = Spawn(device, s, crash_at);
    if (random_delay_us >= 0) {
      // A random moment is the point of this run: no condition to wait for.
      std::this_thread::sleep_for(std::chrono::microseconds(random_delay_us));
      ::kill(pid, SIGKILL);
    }
    const int code = Wait(pid);
    if (code == SIGKILL) {
      ++kills;
      ++kills_per_point[crash_at.empty() ? "random" : crash_at];
    } else {
      ASSERT_EQ(code, 0) << crash_at << ": " << Output(device);
      ++not_reached;
    }
    std::string why;
    if (!BootsAWorkingModel(device, &why)) {
      ++without_model;
      ADD_FAILURE() << "no working model after a kill at " << (crash_at.empty() ? "random" : crash_at) << ": " << why;
    }
    ExpectCompletes(device, s, crash_at.empty() ? "random " + std::to_string(random_delay_us) + " us" : crash_at);
    fs::remove_all(device);
    fs::remove(device + ".out");
    fs::remove(device + ".err");
  };

  // Every named point, in both scenarios; the health window's persist points also a few
  // passes in (the window is written every 5 outcomes).
  std::vector<std::string> points = UpdateCrashPoints();
  for (const char* extra : {"persist-health-before:2", "persist-health-after:3", "download-mid:2"})
    points.push_back(extra);
  // The clean run's duration bounds the random kills.
  const auto t0 = std::chrono::steady_clock::now();
  for (const Scenario& s : scenarios) {
    SetDesired(s.target);
    for (const std::string& p : points) {
      run_one(s, p, -1);
      if (HasFatalFailure()) return;
    }
  }
  const auto per_run =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count() / runs;
  std::mt19937 rng(20261127);
  const int random_runs = 200;
  for (int i = 0; i < random_runs; ++i) {
    const Scenario& s = scenarios[i % 2];
    SetDesired(s.target);
    // A run is two driver processes; the first one's life is about half of it.
    std::uniform_int_distribution<int> delay(0, static_cast<int>(per_run / 2));
    run_one(s, "", delay(rng));
    if (HasFatalFailure()) return;
  }

  std::printf("agent fault injection: %d runs, %d killed, %d finished before their crash point, "
              "%d devices left without a working model\n",
              runs, kills, not_reached, without_model);
  for (const auto& [point, n] : kills_per_point) std::printf("  kills at %-28s %d\n", point.c_str(), n);
  EXPECT_GE(runs, 200);
  EXPECT_EQ(without_model, 0);
  // Every named point is reached in at least one scenario.
  for (const std::string& p : UpdateCrashPoints()) EXPECT_GT(kills_per_point[p], 0) << p << " was never reached";
}

INSTANTIATE_TEST_SUITE_P(Databases, AgentFaultTest, ::testing::Values("sqlite"), fleet::testing::BackendName);

}  // namespace
}  // namespace outpost::agent::testing
