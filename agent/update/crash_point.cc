#include "agent/update/crash_point.h"

#include <signal.h>

#include <cstdlib>
#include <mutex>

namespace outpost::agent {
namespace {

struct CrashSetting {
  std::string point;
  int nth = 1;
  int passes = 0;
};

CrashSetting& Setting() {
  static CrashSetting s = [] {
    CrashSetting c;
    const char* env = std::getenv("OUTPOST_AGENT_CRASH_AT");
    if (!env) return c;
    c.point = env;
    const size_t colon = c.point.rfind(':');
    if (colon != std::string::npos) {
      c.nth = std::atoi(c.point.c_str() + colon + 1);
      if (c.nth < 1) c.nth = 1;
      c.point.resize(colon);
    }
    return c;
  }();
  return s;
}

}  // namespace

void CrashPoint(const std::string& name) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  CrashSetting& s = Setting();
  if (s.point.empty() || s.point != name) return;
  if (++s.passes == s.nth) ::raise(SIGKILL);
}

const std::vector<std::string>& UpdateCrashPoints() {
  // "persist-<state>-before/after" around every state file write, plus the moments inside a
  // step where half-done work is on disk. ("boot-repointed", passed only when a broken active
  // slot is replaced at boot, is not on an update's path.)
  static const std::vector<std::string> points = [] {
    std::vector<std::string> p;
    for (const char* s : {"check", "download", "verify", "stage", "selftest", "switch", "health", "commit", "rollback"}) {
      p.push_back(std::string("persist-") + s + "-before");
      p.push_back(std::string("persist-") + s + "-after");
    }
    for (const char* s : {"download-mid", "download-done", "delta-applied", "stage-slot-cleared", "stage-package-written",
                          "stage-model-written", "switch-before-rename", "switch-after-rename", "commit-before-cleanup",
                          "rollback-after-rename"})
      p.push_back(s);
    return p;
  }();
  return points;
}

}  // namespace outpost::agent
