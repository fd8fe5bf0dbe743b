#include "agent/update/model_check.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "io/model_file.h"
#include "io/session.h"

namespace outpost::agent {

Expected<SelfTestResult> CheckModelFile(const std::string& opm_path, int runs) {
  Expected<io::LoadedModel> model = io::LoadedModel::Open(opm_path);
  if (!model.ok()) return model.error();
  Expected<std::unique_ptr<io::Session>> session = io::Session::Create(*model);
  if (!session.ok()) return Error(opm_path + ": " + session.message());
  if (!(*session)->has_self_test()) return Error(opm_path + ": the model has no embedded self-test");
  std::vector<double> times;
  for (int i = 0; i < std::max(runs, 1); ++i) {
    const auto start = std::chrono::steady_clock::now();
    Expected<Unit> r = (*session)->RunSelfTest();
    const auto end = std::chrono::steady_clock::now();
    if (!r.ok()) return Error(opm_path + ": self-test failed: " + r.message());
    times.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(times.begin(), times.end());
  return SelfTestResult{times[times.size() / 2], static_cast<int>(times.size())};
}

}  // namespace outpost::agent
