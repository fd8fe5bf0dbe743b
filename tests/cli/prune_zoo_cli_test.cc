// `outpost prune` and `outpost optimize` on the Fashion-MNIST CNN: the MAC budget and accuracy
// target are met, the refit beats the plain cut, every optimize step is reported, and the
// runtime accepts what was written. Minutes under the sanitizers, so not built there.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_expect.h"
#include "tests/cli/cli_runner.h"
#include "tests/cli/prune_cli_fixture.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

TEST_F(PruneCli, HalvesTheMacsOfTheFashionCnnWithinTheAccuracyTarget) {
  const std::string json = dir_ + "/report.json";
  const CliResult r = RunOutpost({"prune", kFashionCnn, "-o", out_, "--target-macs", "50%",
                                  "--calib", kTrainImages, "--calib-limit", "500", "--val",
                                  kTestImages, "--val-labels", kTestLabels, "--val-limit", "1000",
                                  "--json", json});
  ExpectOk(r);
  EXPECT_NE(r.out.find("criterion:   reconstruction"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("least-squares refit on 500 calibration samples"), std::string::npos);
  const nlohmann::json j = ReadJson(json);
  ASSERT_TRUE(j.is_object()) << json;
  EXPECT_EQ(j["macs_before"].get<uint64_t>(), 6047488u);
  EXPECT_LE(j["macs_after"].get<uint64_t>(), 6047488u / 2);
  EXPECT_GT(j["macs_after"].get<uint64_t>(), 6047488u / 3);
  EXPECT_EQ(j["groups"].size(), 4u);     // three convolutions and the hidden fully connected layer
  EXPECT_EQ(j["kept_whole"].size(), 1u);  // the classifier writes the graph output
  for (const auto& fit : j["refits"])
    EXPECT_LT(fit["error_refit"].get<double>(), fit["error_cut"].get<double>()) << fit.dump();
  // The target is 1 point on the full test set (docs/compression.md); on 1000 images
  // with 500 calibration samples the test allows 2.
  const double drop = j["accuracy_before"].get<double>() - j["accuracy_after"].get<double>();
  EXPECT_LT(drop, 2.0) << r.out;
  ExpectOk(RunOutpost({"run", out_, "--self-test"}));
  ExpectOk(RunOutpost({"inspect", out_}));

  // Without the refit the same cut loses far more.
  const CliResult cut = RunOutpost({"prune", kFashionCnn, "-o", dir_ + "/cut.opm", "--target-macs",
                                    "50%", "--no-reconstruct", "--val", kTestImages, "--val-labels",
                                    kTestLabels, "--val-limit", "1000", "--json", json});
  ExpectOk(cut);
  const nlohmann::json c = ReadJson(json);
  EXPECT_GT(c["accuracy_before"].get<double>() - c["accuracy_after"].get<double>(), drop + 3.0)
      << cut.out;
}

// Magnitude sparsity keeps the MACs, shrinks the file (sparse weight storage) and survives int8
// quantization, whose symmetric weights keep every zero.
TEST_F(PruneCli, SparsityShrinksTheFileAndSurvivesQuantization) {
  const std::string json = dir_ + "/report.json";
  const CliResult r = RunOutpost({"prune", kFashionCnn, "-o", out_, "--sparsity", "0.5", "--val",
                                  kTestImages, "--val-labels", kTestLabels, "--val-limit", "1000",
                                  "--json", json});
  ExpectOk(r);
  EXPECT_NE(r.out.find("left dense: /features/features.0/Conv (288 weights"), std::string::npos)
      << r.out;
  const nlohmann::json j = ReadJson(json);
  ASSERT_TRUE(j.is_object()) << json;
  EXPECT_EQ(j["macs_after"].get<uint64_t>(), j["macs_before"].get<uint64_t>());
  const auto& sp = j["sparsity"];
  EXPECT_EQ(sp["layers"].size(), 4u);
  EXPECT_NEAR(sp["zeros"].get<double>() / sp["weights"].get<double>(), 0.5, 0.001);
  EXPECT_LT(j["accuracy_before"].get<double>() - j["accuracy_after"].get<double>(), 2.0) << r.out;

  const std::string dense = dir_ + "/dense.opm";
  ExpectOk(RunOutpost({"compile", kFashionCnn, "-o", dense}));
  const auto sparse_bytes = fs::file_size(out_), dense_bytes = fs::file_size(dense);
  EXPECT_LT(sparse_bytes, dense_bytes * 6 / 10) << sparse_bytes << " vs " << dense_bytes;
  const CliResult inspect = RunOutpost({"inspect", out_});
  ExpectOk(inspect);
  EXPECT_NE(inspect.out.find("decoded sparse weights:"), std::string::npos) << inspect.out;
  // The sparse model's own self-test (outputs recorded when it was written) on this CPU's
  // kernels, which on x86 read the fully connected weights in place.
  ExpectOk(RunOutpost({"run", out_, "--self-test", "--threads", "2"}));
  setenv("OUTPOST_KERNELS", "reference", 1);  // the child inherits it
  const CliResult ref_inspect = RunOutpost({"inspect", out_, "--json"});
  unsetenv("OUTPOST_KERNELS");
  ExpectOk(ref_inspect);
  const CliResult auto_inspect = RunOutpost({"inspect", out_, "--json"});
  ExpectOk(auto_inspect);
  const int64_t ref_decoded =
      nlohmann::json::parse(ref_inspect.out)["decoded_sparse_bytes"].get<int64_t>();
  const int64_t auto_decoded =
      nlohmann::json::parse(auto_inspect.out)["decoded_sparse_bytes"].get<int64_t>();
  // The reference kernels decode all four sparse layers; the x86 kernels read both fully
  // connected ones (3136 -> 128 and 128 -> 10, a batch of one) in place.
  EXPECT_GE(ref_decoded, 3136 * 128 * 4);
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    EXPECT_EQ(ref_decoded - auto_decoded, (3136 * 128 + 128 * 10) * 4)
        << ref_decoded << " vs " << auto_decoded;
  }
#endif

  const std::string q = dir_ + "/int8.opm", q_dense = dir_ + "/int8_dense.opm";
  ExpectOk(RunOutpost({"quantize", out_, "-o", q, "--calib", kTrainImages, "--calib-limit",
                       "200"}));
  ExpectOk(RunOutpost({"quantize", dense, "-o", q_dense, "--calib", kTrainImages,
                       "--calib-limit", "200"}));
  EXPECT_LT(fs::file_size(q), fs::file_size(q_dense) * 7 / 10);
  ExpectOk(RunOutpost({"run", q, "--self-test"}));
}

TEST_F(PruneCli, OptimizeReportsEachStepAndRefusesAnImpossibleBudget) {
  const std::vector<std::string> common = {
      "optimize", kFashionCnn, "-o", out_, "--calib", kTrainImages, "--calib-limit", "200",
      "--val", kTestImages, "--val-labels", kTestLabels, "--val-limit", "300", "--ratios", "0,0.3"};
  std::vector<std::string> args = common;
  args.insert(args.end(), {"--max-drop", "3"});
  const CliResult r = RunOutpost(args);
  ExpectOk(r);
  for (const char* step : {"float", "int8", "prune 30% + int8", "<- chosen"})
    EXPECT_NE(r.out.find(step), std::string::npos) << step << "\n" << r.out;
  ASSERT_TRUE(fs::exists(out_));
  ExpectOk(RunOutpost({"run", out_, "--self-test"}));

  fs::remove(out_);
  args = common;
  args.insert(args.end(), {"--target-size", "1KB"});
  const CliResult none = RunOutpost(args);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no candidate meets the budget, nothing written"), std::string::npos)
      << none.err;
  EXPECT_NE(none.out.find("misses size"), std::string::npos) << none.out;
  EXPECT_FALSE(fs::exists(out_));
}

}  // namespace
}  // namespace outpost::testing
