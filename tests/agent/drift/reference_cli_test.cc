// The drift reference through the `outpost` binary: `compile --reference` stores it
// (deterministically), `inspect` shows it in one line, `quantize --calib` makes the int8
// model's own, `quantize` without data drops a float model's, and a package of such a model
// packs, verifies and unpacks bit-exact.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "io/model_file.h"
#include "io/model_reference.h"
#include "tests/cli/cli_runner.h"

namespace outpost::agent {
namespace {

namespace fs = std::filesystem;
using outpost::testing::CliResult;
using outpost::testing::RunOutpost;

const std::string kData = "/usr/share/datasets/fashion-mnist";

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

class ReferenceCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kData + "/t10k-images-idx3-ubyte.gz"))
      GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)";
    dir_ = fs::temp_directory_path() /
           ("outpost_reference_cli_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string P(const std::string& name) const { return (dir_ / name).string(); }

  CliResult CompileWithReference(const std::string& out) {
    return RunOutpost({"compile", onnx_, "-o", out, "--reference",
                       kData + "/t10k-images-idx3-ubyte.gz", "--reference-limit", "300"});
  }

  const std::string onnx_ = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/fashion_cnn/model.onnx";
  fs::path dir_;
};

TEST_F(ReferenceCliTest, CompileStoresItAndInspectShowsOneLine) {
  const CliResult c = CompileWithReference(P("a.opm"));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("  reference:  300 samples from "), std::string::npos) << c.out;
  ASSERT_EQ(CompileWithReference(P("b.opm")).exit_code, 0);
  EXPECT_EQ(ReadBytes(P("a.opm")), ReadBytes(P("b.opm")));

  io::LoadedModel m = io::LoadedModel::Open(P("a.opm")).value();
  EXPECT_EQ(io::ReadModelReference(m).value().samples, 300u);

  const CliResult i = RunOutpost({"inspect", P("a.opm")});
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_NE(i.out.find("reference:   drift reference v1, 300 samples: 1 input(s), 1 output(s) "
                       "(1 with class distribution)\n"),
            std::string::npos)
      << i.out;
  EXPECT_EQ(i.out.find(io::kReferenceKey), std::string::npos);  // no kilobytes of JSON

  // Without --reference there is none, and inspect says nothing about one.
  ASSERT_EQ(RunOutpost({"compile", onnx_, "-o", P("plain.opm")}).exit_code, 0);
  EXPECT_EQ(RunOutpost({"inspect", P("plain.opm")}).out.find("reference:"), std::string::npos);
  EXPECT_FALSE(io::ReadModelReference(io::LoadedModel::Open(P("plain.opm")).value()).ok());
}

TEST_F(ReferenceCliTest, QuantizeMakesTheInt8ModelsOwnOrDropsAStaleOne) {
  ASSERT_EQ(CompileWithReference(P("f.opm")).exit_code, 0);
  const CliResult q = RunOutpost({"quantize", P("f.opm"), "-o", P("q.opm"), "--calib",
                                  kData + "/t10k-images-idx3-ubyte.gz", "--calib-limit", "200"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find("drift reference from the 200 calibration samples"), std::string::npos);
  const io::ModelReference fr =
      io::ReadModelReference(io::LoadedModel::Open(P("f.opm")).value()).value();
  const io::ModelReference qr =
      io::ReadModelReference(io::LoadedModel::Open(P("q.opm")).value()).value();
  EXPECT_EQ(fr.samples, 300u);
  EXPECT_EQ(qr.samples, 200u);

  const CliResult w = RunOutpost({"quantize", P("f.opm"), "-o", P("w.opm"), "--weights-only", "fp16"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_NE(w.err.find("drift reference is dropped"), std::string::npos) << w.err;
  EXPECT_FALSE(io::ReadModelReference(io::LoadedModel::Open(P("w.opm")).value()).ok());
}

TEST_F(ReferenceCliTest, PackagesOfSuchModelsVerifyAndUnpackBitExact) {
  ASSERT_EQ(CompileWithReference(P("m.opm")).exit_code, 0);
  ASSERT_EQ(RunOutpost({"keygen", "-o", P("sign")}).exit_code, 0);
  const CliResult p = RunOutpost(
      {"pack", P("m.opm"), "--key", P("sign.key"), "--version", "1.0.0", "-o", P("m.opk")});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const CliResult v = RunOutpost({"verify", P("m.opk"), "--key", P("sign.pub")});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  ASSERT_EQ(RunOutpost({"unpack", P("m.opk"), "--key", P("sign.pub"), "-o", P("back.opm")})
                .exit_code,
            0);
  EXPECT_EQ(ReadBytes(P("back.opm")), ReadBytes(P("m.opm")));
}

TEST_F(ReferenceCliTest, UnreadableReferenceDataIsAnError) {
  const CliResult c = RunOutpost({"compile", onnx_, "-o", P("x.opm"), "--reference", P("none.npy")});
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find("none.npy"), std::string::npos) << c.err;
  EXPECT_FALSE(fs::exists(P("x.opm")));
}

}  // namespace
}  // namespace outpost::agent
