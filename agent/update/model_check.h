// The "working model" test, shared by the boot rule and the self-test step: the .opm loads
// with the runtime's verifier, has an embedded self-test, and the self-test passes; several
// timed runs give the median latency.
#pragma once

#include <string>

#include "common/expected.h"

namespace outpost::agent {

struct SelfTestResult {
  double median_ms = 0;
  int runs = 0;
};

// Errors name the path and say why ("...: the model has no embedded self-test").
Expected<SelfTestResult> CheckModelFile(const std::string& opm_path, int runs);

}  // namespace outpost::agent
