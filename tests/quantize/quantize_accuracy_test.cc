// The accuracy targets of int8 quantization, through the CLI on all 10,000 Fashion-MNIST test
// images: `outpost quantize` (calibrated on 1,000 training images, the default) must stay
// within 0.3 accuracy points of the float model and write a file at least 3.8x smaller for
// the CNN (the small MobileNet's file carries per-channel scales and its graph description,
// which do not shrink; docs/quantization.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "tests/cli/cli_runner.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;
const std::string kData = "/usr/share/datasets/fashion-mnist";

int Correct(const std::string& model) {
  const CliResult r = RunOutpost({"eval", model, "--images", kData + "/t10k-images-idx3-ubyte.gz",
                                  "--labels", kData + "/t10k-labels-idx1-ubyte.gz"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("correct: (\\d+)/10000"))) return -1;
  return std::stoi(m[1]);
}

class Int8Accuracy : public ::testing::TestWithParam<std::string> {};

TEST_P(Int8Accuracy, WithinThreeTenthsOfAPointOfFloat) {
  const std::string onnx = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/" + GetParam() +
                           "/model.onnx";
  const fs::path dir = fs::temp_directory_path() / ("outpost_qacc_" + GetParam());
  fs::create_directories(dir);
  const std::string f = (dir / "float.opm").string(), q = (dir / "int8.opm").string();
  ASSERT_EQ(RunOutpost({"compile", onnx, "-o", f}).exit_code, 0);
  const CliResult r = RunOutpost(
      {"quantize", onnx, "-o", q, "--calib", kData + "/train-images-idx3-ubyte.gz"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int fc = Correct(f), qc = Correct(q);
  const double ratio = static_cast<double>(fs::file_size(f)) / fs::file_size(q);
  std::printf("%s: float %d/10000, int8 %d/10000, .opm %.2fx smaller\n", GetParam().c_str(), fc,
              qc, ratio);
  fs::remove_all(dir);
  EXPECT_GE(qc, fc - 30);  // 0.3 points of 10,000 images
  EXPECT_GE(ratio, GetParam() == "fashion_cnn" ? 3.8 : 2.3);
}

INSTANTIATE_TEST_SUITE_P(Zoo, Int8Accuracy, ::testing::Values("fashion_cnn", "fashion_mobilenet"));

}  // namespace
}  // namespace outpost::testing
