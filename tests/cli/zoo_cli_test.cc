// End to end on a committed zoo model: compile the ONNX file, inspect it, run its golden input
// against the PyTorch output, benchmark it and evaluate it on Fashion-MNIST.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/npy.h"
#include "tests/cli/cli_runner.h"
#include "tests/cli/npy_expect.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

const std::string kZoo = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/fashion_cnn";
const std::string kFashion = "/usr/share/datasets/fashion-mnist";

class ZooCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("outpost_zoo_cli_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
    model_ = dir_ + "/fashion_cnn.opm";
    if (!fs::exists(kZoo + "/model.onnx")) return;
    compile_ = RunOutpost({"compile", kZoo + "/model.onnx", "-o", model_});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    ASSERT_TRUE(fs::exists(kZoo + "/model.onnx")) << "zoo model missing: " << kZoo;
    ASSERT_EQ(compile_.exit_code, 0) << compile_.err;
  }

  static std::string dir_, model_;
  static CliResult compile_;
};

std::string ZooCliTest::dir_, ZooCliTest::model_;
CliResult ZooCliTest::compile_;

TEST_F(ZooCliTest, CompileSummary) {
  EXPECT_NE(compile_.out.find("MACs:"), std::string::npos) << compile_.out;
  EXPECT_NE(compile_.out.find("arena:"), std::string::npos) << compile_.out;
  EXPECT_NE(compile_.out.find("self-test:  embedded"), std::string::npos) << compile_.out;
  EXPECT_TRUE(fs::exists(model_));
}

TEST_F(ZooCliTest, InspectJson) {
  const CliResult r = RunOutpost({"inspect", model_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  std::ifstream meta_file(kZoo + "/meta.json");
  const nlohmann::json meta = nlohmann::json::parse(meta_file);
  EXPECT_EQ(j["macs"], meta["macs"]);
  EXPECT_EQ(j["inputs"][0]["shape"], meta["input_shape"]);
  EXPECT_EQ(j["outputs"][0]["shape"], meta["output_shape"]);
  EXPECT_EQ(j["task"], "classification");
  EXPECT_EQ(j["labels"].size(), 10u);
  EXPECT_GE(j["arena_bytes"].get<uint64_t>(), j["arena_lower_bound_bytes"].get<uint64_t>());
  EXPECT_GE(j["total_arena_bytes"].get<uint64_t>(), j["arena_bytes"].get<uint64_t>());
  EXPECT_GT(j["weight_bytes"].get<uint64_t>(), 0u);
  EXPECT_FALSE(j["ops"].empty());
  EXPECT_EQ(j["inputs"][0]["spec"]["color"], "gray");
}

TEST_F(ZooCliTest, RunMatchesTheReferenceOutput) {
  const std::string y = dir_ + "/y.npy";
  const CliResult r = RunOutpost({"run", model_, "--input", kZoo + "/input.npy", "--output", y});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectNpyClose(y, kZoo + "/output.npy");

  const CliResult top = RunOutpost({"run", model_, "--input", kZoo + "/input.npy"});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  EXPECT_NE(top.out.find("Ankle boot"), std::string::npos) << top.out;  // t10k image 0
  EXPECT_EQ(RunOutpost({"run", model_, "--self-test"}).exit_code, 0);
}

// A model compiled with --prepack auto carries cached packed weights for this CPU's kernels;
// one compiled by default does not. Both give the same bytes, at 1 and 2 threads and with
// kernels that cannot use the cache (AVX2 only, reference).
TEST_F(ZooCliTest, CachedPackingGivesTheSameOutputs) {
  const std::string plain = model_;
  const std::string cached = dir_ + "/cached.opm";
  const CliResult c = RunOutpost({"compile", kZoo + "/model.onnx", "-o", cached, "--prepack", "auto"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("prepack:    auto"), std::string::npos) << c.out;
  EXPECT_NE(compile_.out.find("prepack:    none"), std::string::npos) << compile_.out;
  auto read = [](const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  for (const char* threads : {"1", "2"}) {
    for (const char* kernels : {"auto", "avx2", "reference"}) {
      SCOPED_TRACE(std::string(threads) + " threads, kernels " + kernels);
      std::string outs[2];
      for (int i = 0; i < 2; ++i) {
        const std::string y = dir_ + "/y_cached_" + std::to_string(i) + ".npy";
        // The child inherits the variable (io::Session reads it).
        setenv("OUTPOST_KERNELS", kernels, 1);
        const CliResult r = RunOutpost({"run", i ? cached : plain, "--input", kZoo + "/input.npy",
                                        "--output", y, "--threads", threads});
        unsetenv("OUTPOST_KERNELS");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        outs[i] = read(y);
      }
      EXPECT_FALSE(outs[0].empty());
      EXPECT_EQ(outs[0], outs[1]);
    }
  }
  const CliResult bad = RunOutpost(
      {"compile", kZoo + "/model.onnx", "-o", dir_ + "/x.opm", "--prepack", "sse"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--prepack"), std::string::npos) << bad.err;
}

TEST_F(ZooCliTest, Bench) {
  const CliResult r = RunOutpost({"bench", model_, "--runs", "3", "--warmup", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("median"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CONV_2D"), std::string::npos) << r.out;
}

TEST_F(ZooCliTest, EvalOnFashionMnist) {
  ASSERT_TRUE(fs::exists(kFashion + "/t10k-images-idx3-ubyte.gz"))
      << "dataset-fashion-mnist is not installed (scripts/setup.sh installs it)";
  const CliResult r =
      RunOutpost({"eval", model_, "--images", kFashion + "/t10k-images-idx3-ubyte.gz", "--labels",
                  kFashion + "/t10k-labels-idx1-ubyte.gz", "--limit", "200"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("correct: "), std::string::npos) << r.out;
  const size_t at = r.out.find("accuracy: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const double accuracy = std::stod(r.out.substr(at + 10));
  EXPECT_GT(accuracy, 85.0) << r.out;  // the model scores 92.8% on the full test set
  EXPECT_NE(r.out.find("Ankle boot"), std::string::npos);
}

TEST_F(ZooCliTest, CompileOverridesMetadata) {
  const std::string labels = dir_ + "/labels.txt";
  std::ofstream(labels) << "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n";
  const std::string out = dir_ + "/overridden.opm";
  const CliResult c =
      RunOutpost({"compile", kZoo + "/model.onnx", "-o", out, "--labels", labels, "--task",
                  "regression", "--mean", "0.5", "--std", "0.25", "--no-self-test"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const CliResult r = RunOutpost({"inspect", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["labels"][9], "nine");
  EXPECT_EQ(j["task"], "regression");
  EXPECT_FLOAT_EQ(j["inputs"][0]["spec"]["mean"][0].get<float>(), 0.5f);
  EXPECT_FLOAT_EQ(j["inputs"][0]["spec"]["std"][0].get<float>(), 0.25f);
  EXPECT_EQ(j["self_test"], false);
}

TEST_F(ZooCliTest, TruncatedRealModel) {
  std::ifstream in(model_, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes.resize(bytes.size() - 1000);
  const std::string cut = dir_ + "/cut.opm";
  std::ofstream(cut, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  for (const char* cmd : {"inspect", "bench"}) {
    const CliResult r = RunOutpost({cmd, cut});
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_NE(r.err.find("outpost: error: " + cut + ": file is"), std::string::npos) << r.err;
  }
}

TEST_F(ZooCliTest, WrongShapeForARealModel) {
  io::HostTensor t = io::HostTensor::Zeros(io::ElementType::kFloat32, {1, 28, 28});
  const std::string x = dir_ + "/x.npy";
  ASSERT_TRUE(io::WriteNpy(x, t).ok());
  const CliResult r = RunOutpost({"run", model_, "--input", x});
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find("input 'input' expects [1,1,28,28] float32, got [1,28,28] float32"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace outpost::testing
