// Crash injection for the fault tests: OUTPOST_AGENT_CRASH_AT=<point>[:<n>] makes the process
// kill itself with SIGKILL (no cleanup, no flushing: like a power cut for everything not yet
// fsynced) the n-th time (default 1st) it passes the named point. Points are named where the
// engine calls CrashPoint(); docs/agent.md lists them. Unset, a call is a string comparison.
#pragma once

#include <string>
#include <vector>

namespace outpost::agent {

void CrashPoint(const std::string& name);

// Every point the update engine passes, for the fault test to iterate over.
const std::vector<std::string>& UpdateCrashPoints();

}  // namespace outpost::agent
