// The compiled fp32 Fashion-MNIST models score what PyTorch scored, through `outpost eval` on
// all 10,000 test images (tolerance: 2 images, for float summation order).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/cli/cli_runner.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;
const std::string kData = "/usr/share/datasets/fashion-mnist";

class FashionAccuracy : public ::testing::TestWithParam<std::string> {};

TEST_P(FashionAccuracy, EqualsPyTorchWithinTwoImages) {
  const std::string dir = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/" + GetParam();
  std::ifstream meta_file(dir + "/meta.json");
  ASSERT_TRUE(meta_file) << dir;
  const int pytorch_correct = nlohmann::json::parse(meta_file)["test_correct"].get<int>();

  const fs::path tmp = fs::temp_directory_path() / ("outpost_acc_" + GetParam() + ".opm");
  const CliResult c = RunOutpost({"compile", dir + "/model.onnx", "-o", tmp.string()});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const CliResult r = RunOutpost({"eval", tmp.string(), "--images",
                                  kData + "/t10k-images-idx3-ubyte.gz", "--labels",
                                  kData + "/t10k-labels-idx1-ubyte.gz"});
  fs::remove(tmp);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("correct: (\\d+)/10000"))) << r.out;
  const int correct = std::stoi(m[1]);
  std::printf("%s: outpost %d/10000, pytorch %d/10000\n", GetParam().c_str(), correct,
              pytorch_correct);
  EXPECT_LE(std::abs(correct - pytorch_correct), 2);
}

INSTANTIATE_TEST_SUITE_P(Zoo, FashionAccuracy,
                         ::testing::Values("fashion_cnn", "fashion_mobilenet"));

}  // namespace
}  // namespace outpost::testing
