// `outpost prune` and `outpost optimize` usage errors: exit 2, one line, nothing written.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/cli/cli_expect.h"
#include "tests/cli/cli_runner.h"
#include "tests/cli/prune_cli_fixture.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

TEST_F(PruneCli, UsageErrorsExitWithTwoAndWriteNothing) {
  ExpectError(RunOutpost({"prune", kFashionCnn, "-o", out_, "--calib", kTrainImages}),
              "give one of --ratio, --target-macs, --target-latency-ms, or --sparsity", 2);
  ExpectError(RunOutpost({"prune", kFashionCnn, "-o", out_, "--ratio", "0.3", "--target-macs",
                          "1M", "--calib", kTrainImages}),
              "give one of", 2);
  ExpectError(RunOutpost({"prune", kFashionCnn, "-o", out_, "--sparsity", "1"}),
              "--sparsity must be in [0, 1)", 2);
  ExpectError(RunOutpost({"prune", kFashionCnn, "-o", out_, "--ratio", "1"}),
              "--ratio must be in [0, 1)", 2);
  ExpectError(RunOutpost({"prune", kFashionCnn, "-o", out_, "--ratio", "0.3"}),
              "needs calibration data: --calib DATA (or --no-reconstruct)", 2);
  ExpectError(RunOutpost({"prune", kFashionCnn, "-o", out_, "--target-macs", "lots",
                          "--no-reconstruct"}),
              "--target-macs 'lots'", 2);
  ExpectError(RunOutpost({"optimize", kFashionCnn, "-o", out_, "--calib", kTrainImages, "--val",
                          kTestImages, "--val-labels", kTestLabels}),
              "give a budget", 2);
  ExpectError(RunOutpost({"optimize", kFashionCnn, "-o", out_, "--calib", kTrainImages, "--val",
                          kTestImages, "--val-labels", kTestLabels, "--target-size", "big"}),
              "--target-size 'big'", 2);
  EXPECT_FALSE(fs::exists(out_));
}

}  // namespace
}  // namespace outpost::testing
