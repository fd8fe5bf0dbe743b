// `outpost quantize --max-drop`: the accuracy gate from the command line. A model whose int8
// version misses the gate must either come out with the right layers in float or not come out
// at all (exit 1, no file); usage mistakes exit 2. The last test runs the zoo CNN with --cle.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "compiler/emit/opm_writer.h"
#include "compiler/plan/memory_planner.h"
#include "io/npy.h"
#include "tests/cli/cli_runner.h"
#include "tests/io/test_models.h"
#include "tests/quantize/gate_test_models.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

const std::string kZoo = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/fashion_cnn";
const std::string kFashion = "/usr/share/datasets/fashion-mnist";

class QuantizeGateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    out_ = dir_ + "/int8.opm";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `g` as a float .opm and its data as .npy files: calib.npy, val.npy, labels.npy.
  std::string WriteModelAndData(ir::Graph g, bool outlier_input) {
    const quant::Dataset calib = LabelledByModel(g, 64, 7000, outlier_input);
    const quant::Dataset val = LabelledByModel(g, 300, 1000, outlier_input);
    WriteSamples("calib.npy", calib);
    WriteSamples("val.npy", val);
    io::HostTensor labels =
        io::HostTensor::Zeros(io::ElementType::kInt64, {static_cast<int64_t>(val.labels.size())});
    for (size_t i = 0; i < val.labels.size(); ++i)
      labels.mutable_values<int64_t>()[i] = val.labels[i];
    EXPECT_TRUE(io::WriteNpy(dir_ + "/labels.npy", labels).ok());
    plan::PlanMemory(g);
    const std::string path = dir_ + "/model.opm";
    WriteBytes(path, emit::EmitOpm(g));
    return path;
  }
  void WriteSamples(const std::string& name, const quant::Dataset& d) {
    std::vector<float> all;
    for (const auto& s : d.samples) all.insert(all.end(), s.begin(), s.end());
    const int64_t n = static_cast<int64_t>(d.samples.size());
    const io::HostTensor t =
        io::HostTensor::Float32({n, static_cast<int64_t>(d.samples[0].size())}, all);
    EXPECT_TRUE(io::WriteNpy(dir_ + "/" + name, t).ok());
  }
  std::vector<std::string> Gate(const std::string& model, const std::string& max_drop) {
    return {"quantize",     model,
            "-o",           out_,
            "--calib",      dir_ + "/calib.npy",
            "--max-drop",   max_drop,
            "--val",        dir_ + "/val.npy",
            "--val-labels", dir_ + "/labels.npy"};
  }

  std::string dir_, out_;
};

void ExpectUsageError(const CliResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("outpost: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST_F(QuantizeGateCliTest, KeepsTheOutlierLayersFloatAndWritesTheModel) {
  const std::string model = WriteModelAndData(OutlierClassifier().g, false);
  const CliResult r = RunOutpost(Gate(model, "3"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("float accuracy:         100.00%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("per-layer SQNR"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kept float by the gate: fc3, fc2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gate: PASS"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(out_));
  // The written model keeps fc2 and fc3 float: its only int8 layer is fc1.
  const CliResult inspect = RunOutpost({"inspect", out_, "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  std::map<std::string, std::string> weights;
  const nlohmann::json j = nlohmann::json::parse(inspect.out);
  for (const auto& op : j["ops"])
    if (op["op"] == "FULLY_CONNECTED") weights[op["name"]] = op["inputs"][1]["dtype"];
  EXPECT_EQ(weights, (std::map<std::string, std::string>{
                         {"fc1", "int8"}, {"fc2", "float32"}, {"fc3", "float32"}}));
}

TEST_F(QuantizeGateCliTest, FailsAndWritesNothingWhenTheGateCannotBeMet) {
  const std::string model = WriteModelAndData(OutlierInputClassifier().g, true);
  const CliResult r = RunOutpost(Gate(model, "1"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::vector<std::string> lines = r.err_lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("outpost: error: accuracy gate failed", 0), 0u) << r.err;
  EXPECT_NE(lines.back().find("cannot be met"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("gate: FAIL"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out_));
}

TEST_F(QuantizeGateCliTest, WithoutLabelsGatesOnOutputSqnr) {
  const std::string model = WriteModelAndData(OutlierClassifier().g, false);
  std::vector<std::string> args = Gate(model, "1");
  args.resize(args.size() - 2);  // no --val-labels
  args.insert(args.end(), {"--min-sqnr", "30"});
  const CliResult r = RunOutpost(args);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("output SQNR >= 30.0 dB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no labels"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gate: PASS"), std::string::npos) << r.out;
}

TEST_F(QuantizeGateCliTest, UsageErrors) {
  const std::string model = WriteModelAndData(OutlierClassifier().g, false);
  const std::string calib = dir_ + "/calib.npy", val = dir_ + "/val.npy";
  ExpectUsageError(RunOutpost({"quantize", model, "-o", out_, "--calib", calib, "--max-drop", "1"}),
                   "--val");
  ExpectUsageError(RunOutpost({"quantize", model, "-o", out_, "--calib", calib, "--val", val}),
                   "--max-drop");
  ExpectUsageError(RunOutpost({"quantize", model, "-o", out_, "--calib", calib, "--max-drop", "-1",
                               "--val", val}),
                   "--max-drop");
  ExpectUsageError(RunOutpost({"quantize", model, "-o", out_, "--weights-only", "fp16",
                               "--max-drop", "1", "--val", val}),
                   "--weights-only");
  EXPECT_FALSE(fs::exists(out_));
}

TEST_F(QuantizeGateCliTest, ZooCnnWithEqualization) {
  ASSERT_TRUE(fs::exists(kZoo + "/model.onnx")) << "zoo model missing: " << kZoo;
  ASSERT_TRUE(fs::exists(kFashion + "/t10k-images-idx3-ubyte.gz"))
      << "Fashion-MNIST missing (Debian package dataset-fashion-mnist)";
  const CliResult r =
      RunOutpost({"quantize", kZoo + "/model.onnx", "-o", out_, "--cle", "--calib",
                  kFashion + "/train-images-idx3-ubyte.gz", "--calib-limit", "100", "--max-drop",
                  "1", "--val", kFashion + "/t10k-images-idx3-ubyte.gz", "--val-labels",
                  kFashion + "/t10k-labels-idx1-ubyte.gz", "--val-limit", "300"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.err.find("cross-layer equalization: 4 layer pairs"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("300 validation samples"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gate: PASS"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(out_));
}

}  // namespace
}  // namespace outpost::testing
