// Shared by the `outpost prune` / `outpost optimize` CLI tests: the zoo model and data paths and
// a fixture with a temporary folder.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/io/test_models.h"

namespace outpost::testing {

inline const std::string kFashionCnn =
    std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/fashion_cnn/model.onnx";
inline const std::string kFashion = "/usr/share/datasets/fashion-mnist";
inline const std::string kTrainImages = kFashion + "/train-images-idx3-ubyte.gz";
inline const std::string kTestImages = kFashion + "/t10k-images-idx3-ubyte.gz";
inline const std::string kTestLabels = kFashion + "/t10k-labels-idx1-ubyte.gz";

class PruneCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    out_ = dir_ + "/out.opm";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, out_;
};

}  // namespace outpost::testing
