// `outpost quantize` from the outside: usage errors (exit 2), bad data and bad models (exit 1,
// one line naming the problem, no output file), and real runs on the Fashion-MNIST CNN whose
// results `outpost run --self-test` and `outpost eval` accept.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <regex>

#include "compiler/emit/opm_writer.h"
#include "compiler/plan/memory_planner.h"
#include "io/npy.h"
#include "tests/cli/cli_expect.h"
#include "tests/cli/cli_runner.h"
#include "tests/io/test_models.h"
#include "tests/optimizer/graph_builder.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

const std::string kZoo = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/fashion_cnn/model.onnx";
const std::string kData = "/usr/share/datasets/fashion-mnist";
const std::string kTrain = kData + "/train-images-idx3-ubyte.gz";

// A float model [1,4] -> OP (with a constant) -> [1,4] written as .opm.
std::vector<uint8_t> TinyModel(opm::OpCode op, float weight = 0.5f) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 4});
  int y;
  if (op == opm::OpCode::FULLY_CONNECTED) {
    std::vector<float> w(16, weight);
    const int wt = b.Const("w", {4, 4}, w);
    opm::OpOptionsUnion o;
    o.Set(opm::FullyConnectedOptionsT());
    y = b.Node(op, {x, wt}, {1, 4}, o, "fc");
  } else {
    const int c = b.Const("c", {1}, {2.0f});
    y = b.Node(op, {x, c}, {1, 4}, BinaryOpts(), "op");
  }
  b.Output(y);
  plan::PlanMemory(b.g);
  return emit::EmitOpm(b.g);
}

class QuantizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    out_ = dir_ + "/out.opm";
  }
  void TearDown() override { fs::remove_all(dir_); }
  bool HaveData() const { return fs::exists(kTrain) && fs::exists(kZoo); }

  std::string Npy(const std::string& name, std::vector<int64_t> shape, float fill) {
    io::HostTensor t = io::HostTensor::Zeros(io::ElementType::kFloat32, std::move(shape));
    for (float& v : t.mutable_values<float>()) v = fill;
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(io::WriteNpy(path, t).ok());
    return path;
  }
  std::string Model(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = dir_ + "/" + name;
    WriteBytes(path, bytes);
    return path;
  }

  std::string dir_, out_;
};

TEST_F(QuantizeCli, HelpListsTheOptions) {
  const CliResult r = RunOutpost({"quantize", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--calib", "--method", "--percentile", "--per-tensor",
                          "--bias-correction", "--weights-only", "--keep-float", "--calib-limit"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
}

TEST_F(QuantizeCli, UsageErrorsExitWithTwo) {
  const std::string m = Model("fc.opm", TinyModel(opm::OpCode::FULLY_CONNECTED));
  const std::string data = Npy("x.npy", {200, 4}, 1.0f);
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_}), "needs calibration data: --calib", 2);
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--calib", data, "--method", "magic"}),
              "magic", 2);
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--calib", data, "--percentile", "0"}),
              "--percentile must be in (0, 100]", 2);
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--weights-only", "fp16",
                          "--bias-correction"}),
              "fp16 weights need none", 2);
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--calib", data, "--keep-float", "nope"}),
              "no node 'nope'", 2);
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--calib", data, "--mean", "0.5"}),
              "apply to ONNX models only", 2);
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--calib", data, "--calib-limit", "-1"}),
              "--calib-limit", 2);
  EXPECT_FALSE(fs::exists(out_));
}

TEST_F(QuantizeCli, BadCalibrationDataIsNamed) {
  const std::string m = Model("fc.opm", TinyModel(opm::OpCode::FULLY_CONNECTED));
  WriteBytes(dir_ + "/empty.npy", {});
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--calib", dir_ + "/empty.npy"}),
              "the file is empty");
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--calib", Npy("wrong.npy", {10, 5}, 1)}),
              "shape (10,5) does not fit the model input 'x' [1,4]");
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--calib", Npy("none.npy", {0, 4}, 1)}),
              "no samples");
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--calib", Npy("nan.npy", {20, 4}, NAN)}),
              "calibration sample 0 holds NaN");
  ExpectErrorAfterProgress(RunOutpost({"quantize", m, "-o", out_, "--calib", dir_ + "/missing.npy"}),
              "no such file");
  EXPECT_FALSE(fs::exists(out_));
}

TEST_F(QuantizeCli, BadModelsAreNamed) {
  const std::string data = Npy("x.npy", {200, 4}, 1.0f);
  ExpectErrorAfterProgress(RunOutpost({"quantize", Model("nan.opm", TinyModel(opm::OpCode::FULLY_CONNECTED, NAN)),
                          "-o", out_, "--calib", data}),
              "weight tensor 'w' holds NaN");
  // DIV has no int8 kernel: nothing is left to quantize.
  ExpectErrorAfterProgress(RunOutpost({"quantize", Model("div.opm", TinyModel(opm::OpCode::DIV)), "-o", out_,
                          "--calib", data}),
              "nothing to quantize: no node of the model can run in int8 (no int8 kernel: DIV)");
  ExpectErrorAfterProgress(RunOutpost({"quantize", Model("add.opm", TinyModel(opm::OpCode::ADD)), "-o", out_,
                          "--weights-only", "int8"}),
              "nothing to quantize: the model has no convolution");
  EXPECT_FALSE(fs::exists(out_));
}

TEST_F(QuantizeCli, TinyModelWithFewSamplesWarns) {
  const std::string m = Model("fc.opm", TinyModel(opm::OpCode::FULLY_CONNECTED));
  const CliResult r = RunOutpost({"quantize", m, "-o", out_, "--calib", Npy("x.npy", {5, 4}, 1)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("outpost: warning: only 5 calibration samples"), std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::exists(out_));
  // Quantizing the result again is refused.
  ExpectErrorAfterProgress(RunOutpost({"quantize", out_, "-o", dir_ + "/again.opm", "--calib",
                          dir_ + "/x.npy"}),
              "quantize the float model");
}

TEST_F(QuantizeCli, FashionCnnFromOnnx) {
  if (!HaveData()) GTEST_SKIP() << "Fashion-MNIST or the zoo model is missing";
  const CliResult r = RunOutpost({"quantize", kZoo, "-o", out_, "--calib", kTrain,
                                  "--calib-limit", "200", "--method", "percentile"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"quantized ", "8 of 8 in int8", "method percentile 99.99",
                        "200 samples from", "weights per-channel", "self-test:   embedded"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("float \\.opm -> .*\\(([0-9.]+)x smaller\\)")))
      << r.out;
  EXPECT_GE(std::stod(m[1]), 3.8);

  const CliResult st = RunOutpost({"run", out_, "--self-test"});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  const CliResult ev = RunOutpost({"eval", out_, "--images", kData + "/t10k-images-idx3-ubyte.gz",
                                   "--labels", kData + "/t10k-labels-idx1-ubyte.gz", "--limit",
                                   "300"});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  ASSERT_TRUE(std::regex_search(ev.out, m, std::regex("correct: (\\d+)/300"))) << ev.out;
  EXPECT_GE(std::stoi(m[1]), 270);  // the float model gets about 93%
}

TEST_F(QuantizeCli, FromAFloatOpmWithLayersKeptFloat) {
  if (!HaveData()) GTEST_SKIP() << "Fashion-MNIST or the zoo model is missing";
  const std::string f = dir_ + "/float.opm";
  ASSERT_EQ(RunOutpost({"compile", kZoo, "-o", f}).exit_code, 0);
  const CliResult r =
      RunOutpost({"quantize", f, "-o", out_, "--calib", kTrain, "--calib-limit", "100",
                  "--method", "mse", "--keep-float", "/classifier/classifier.3/Gemm"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("7 of 8 in int8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kept float on request"), std::string::npos) << r.out;
  EXPECT_EQ(RunOutpost({"run", out_, "--self-test"}).exit_code, 0);
}

TEST_F(QuantizeCli, WeightOnlyNeedsNoData) {
  if (!HaveData()) GTEST_SKIP() << "the zoo model is missing";
  for (const char* mode : {"fp16", "int8"}) {
    const CliResult r = RunOutpost({"quantize", kZoo, "-o", out_, "--weights-only", mode});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(std::string("weight-only ") + mode), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("5 of 8 with stored weights"), std::string::npos) << r.out;
    EXPECT_EQ(RunOutpost({"run", out_, "--self-test"}).exit_code, 0);
  }
}

}  // namespace
}  // namespace outpost::testing
