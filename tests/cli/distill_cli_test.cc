// models/distill.py --smoke, end to end: the distilled student it exports must compile with
// `outpost compile`, reproduce PyTorch's output for the bundle's golden input, and score on
// Fashion-MNIST what PyTorch scored. Needs /usr/bin/python3 with torch and onnx
// (scripts/setup.sh --models), like the zoo scripts themselves.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/npy.h"
#include "tests/cli/cli_runner.h"
#include "tests/cli/npy_expect.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

const std::string kDistillScript = std::string(OUTPOST_SOURCE_DIR) + "/models/distill.py";
const std::string kTeacherMeta = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/fashion_cnn/meta.json";
const std::string kFashionMnist = "/usr/share/datasets/fashion-mnist";

nlohmann::json ReadJsonFile(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
}

class DistillCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("outpost_distill_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
    bundle_ = dir_ + "/student";
    // One torch thread: the script's default, and the machine's other cores stay free.
    distill_ = RunProgram({"/usr/bin/python3", kDistillScript, "--smoke", "--threads", "1",
                           "--out", bundle_, "--json", dir_ + "/figures.json"});
    if (distill_.exit_code != 0) return;
    figures_ = ReadJsonFile(dir_ + "/figures.json");
    compile_ = RunOutpost({"compile", bundle_ + "/model.onnx", "-o", dir_ + "/student.opm"});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    ASSERT_EQ(distill_.exit_code, 0) << "distill.py --smoke failed (needs /usr/bin/python3 with "
                                        "torch and onnx):\n"
                                     << distill_.out << distill_.err;
    ASSERT_TRUE(figures_.is_object()) << "figures.json missing or not JSON";
    ASSERT_EQ(compile_.exit_code, 0) << compile_.err;
  }

  static std::string dir_, bundle_;
  static CliResult distill_, compile_;
  static nlohmann::json figures_;
};

std::string DistillCliTest::dir_, DistillCliTest::bundle_;
CliResult DistillCliTest::distill_, DistillCliTest::compile_;
nlohmann::json DistillCliTest::figures_;

TEST_F(DistillCliTest, StudentIsSmallerAndKeepsTheZooInterface) {
  const CliResult r = RunOutpost({"inspect", dir_ + "/student.opm", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  const nlohmann::json teacher = ReadJsonFile(kTeacherMeta);
  ASSERT_TRUE(teacher.is_object());
  // The compiler's own MAC count agrees with the script's, and with the teacher's for the zoo model.
  EXPECT_EQ(j["macs"], figures_["student"]["macs"]);
  EXPECT_EQ(figures_["teacher"]["macs"], teacher["macs"]);
  EXPECT_LT(j["macs"].get<int64_t>(), teacher["macs"].get<int64_t>());
  EXPECT_EQ(j["inputs"][0]["name"], teacher["input_name"]);
  EXPECT_EQ(j["outputs"][0]["name"], teacher["output_name"]);
  EXPECT_EQ(j["inputs"][0]["shape"], teacher["input_shape"]);
  EXPECT_EQ(j["outputs"][0]["shape"], teacher["output_shape"]);
  EXPECT_EQ(j["task"], "classification");
  EXPECT_EQ(j["labels"].size(), 10u);
  EXPECT_EQ(j["inputs"][0]["spec"]["color"], "gray");
  const nlohmann::json meta = ReadJsonFile(bundle_ + "/meta.json");
  ASSERT_TRUE(meta.is_object());
  EXPECT_EQ(meta["metadata_props"], teacher["metadata_props"]);
}

TEST_F(DistillCliTest, CompiledStudentMatchesPyTorch) {
  const std::string y = dir_ + "/y.npy";
  const CliResult r =
      RunOutpost({"run", dir_ + "/student.opm", "--input", bundle_ + "/input.npy", "--output", y});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectNpyClose(y, bundle_ + "/output.npy");
}

TEST_F(DistillCliTest, EvalScoresWhatPyTorchScored) {
  ASSERT_TRUE(fs::exists(kFashionMnist + "/t10k-images-idx3-ubyte.gz"))
      << "dataset-fashion-mnist is not installed (scripts/setup.sh installs it)";
  const nlohmann::json& kd = figures_["kd"];
  const int total = kd["test_total"].get<int>();
  const CliResult r = RunOutpost({"eval", dir_ + "/student.opm", "--images",
                                  kFashionMnist + "/t10k-images-idx3-ubyte.gz", "--labels",
                                  kFashionMnist + "/t10k-labels-idx1-ubyte.gz", "--limit",
                                  std::to_string(total)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t at = r.out.find("correct: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const int correct = std::stoi(r.out.substr(at + 9));
  EXPECT_EQ(r.out.substr(r.out.find('/', at) + 1, std::to_string(total).size()),
            std::to_string(total))
      << r.out;
  // Same images, same preprocessing (from the ONNX metadata): float32 rounding may flip an
  // image whose top two logits nearly tie, no more.
  EXPECT_NEAR(correct, kd["test_correct"].get<int>(), 3) << r.out;
  // Even a 1-epoch student on 512 images is far above chance (10 %); a broken export is not.
  EXPECT_GT(correct, total * 3 / 10) << r.out;
}

}  // namespace
}  // namespace outpost::testing
