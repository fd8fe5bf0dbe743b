// The `outpost` binary from the outside: help, usage errors, and every kind of bad input must
// give exit code 1 (2 for usage), one line "outpost: error: ..." naming the problem, no crash
// and no output file. Uses tiny models written with the emitter, so it does not need the ONNX
// importer; see zoo_cli_test.cc for the end-to-end runs on a real model.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/npy.h"
#include "onnx/onnx_pb.h"
#include "tests/cli/cli_expect.h"
#include "tests/cli/cli_runner.h"
#include "tests/io/test_models.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

// Exit code 1, nothing on stdout, exactly one stderr line that starts "outpost: error: " and
// contains `needle`.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    classifier_ = dir_ + "/classifier.opm";
    image_model_ = dir_ + "/image.opm";
    WriteBytes(classifier_, TinyClassifierOpm());
    WriteBytes(image_model_, TinyImageOpm());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteNpy(const std::string& name, const io::HostTensor& t) {
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(io::WriteNpy(path, t).ok());
    return path;
  }

  std::string dir_, classifier_, image_model_;
};

TEST_F(CliTest, HelpForEverySubcommand) {
  for (const char* cmd : {"", "compile", "inspect", "run", "bench", "eval"}) {
    std::vector<std::string> args;
    if (*cmd) args.push_back(cmd);
    args.push_back("--help");
    const CliResult r = RunOutpost(args);
    ExpectOk(r);
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << cmd << ": " << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
}

TEST_F(CliTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(RunOutpost({}).exit_code, 2);
  ExpectError(RunOutpost({"frobnicate"}), "unknown command 'frobnicate'", 2);
  ExpectError(RunOutpost({"run", classifier_, "--bogus"}), "--bogus", 2);
  ExpectError(RunOutpost({"compile", "x.onnx"}), "--output", 2);
  ExpectError(RunOutpost({"run", classifier_}), "--input", 2);
  ExpectError(RunOutpost({"bench", classifier_, "--runs", "0"}), "--runs", 2);
  ExpectError(RunOutpost({"eval", classifier_}), "--data", 2);
  ExpectError(RunOutpost({"compile", "x.onnx", "-o", dir_ + "/x.opm", "--color", "purple"}),
              "purple", 2);
  ExpectError(RunOutpost({"export", classifier_, "-o", dir_ + "/x.onnx", "--activations", "int4"}),
              "int4", 2);
  EXPECT_FALSE(fs::exists(dir_ + "/x.onnx"));
}

TEST_F(CliTest, MissingFiles) {
  const std::string missing = dir_ + "/missing.opm";
  for (const char* cmd : {"inspect", "bench"})
    ExpectError(RunOutpost({cmd, missing}), missing + ": no such file");
  ExpectError(RunOutpost({"run", missing, "--input", "x.npy"}), missing + ": no such file");
  ExpectError(RunOutpost({"run", classifier_, "--input", dir_ + "/nope.npy"}),
              dir_ + "/nope.npy: no such file");
  ExpectError(
      RunOutpost({"eval", image_model_, "--images", dir_ + "/i.gz", "--labels", dir_ + "/l.gz"}),
      dir_ + "/i.gz: no such file");
  ExpectError(RunOutpost({"eval", image_model_, "--data", dir_ + "/nodir"}), "no such directory");
  ExpectError(RunOutpost({"compile", dir_ + "/none.onnx", "-o", dir_ + "/out.opm"}), "none.onnx");
  EXPECT_FALSE(fs::exists(dir_ + "/out.opm"));
  ExpectError(RunOutpost({"inspect", dir_}), "is a directory");
}

TEST_F(CliTest, CorruptModels) {
  std::vector<uint8_t> random(4096);
  uint32_t x = 12345;
  for (uint8_t& b : random) b = static_cast<uint8_t>((x = x * 1103515245 + 12345) >> 16);
  WriteBytes(dir_ + "/random.opm", random);
  std::vector<uint8_t> model = TinyClassifierOpm();
  model.resize(model.size() * 2 / 3);
  WriteBytes(dir_ + "/truncated.opm", model);
  WriteBytes(dir_ + "/empty.opm", {});
  for (const char* cmd : {"inspect", "bench"}) {
    ExpectError(RunOutpost({cmd, dir_ + "/random.opm"}), "not an Outpost model");
    ExpectError(RunOutpost({cmd, dir_ + "/truncated.opm"}), "truncated");
    ExpectError(RunOutpost({cmd, dir_ + "/empty.opm"}), "empty");
  }
  ExpectError(RunOutpost({"run", dir_ + "/truncated.opm", "--self-test"}), "truncated");
}

TEST_F(CliTest, TamperedWeightsFailInspect) {
  std::vector<uint8_t> model = TinyClassifierOpm();
  // The bias is the first constant: at the start of the 64-byte aligned data segment.
  uint64_t data_offset;
  std::memcpy(&data_offset, model.data() + 32, 8);
  model[data_offset] ^= 0x10;
  WriteBytes(dir_ + "/tampered.opm", model);
  ExpectError(RunOutpost({"inspect", dir_ + "/tampered.opm"}),
              "content hash mismatch for tensor 'bias'");
}

TEST_F(CliTest, RunPrintsTopKWithLabels) {
  const std::string x =
      WriteNpy("x.npy", io::HostTensor::Float32({1, 4}, std::vector<float>{1, 2, 3, 4}));
  const CliResult r = RunOutpost({"run", classifier_, "--input", x, "--top-k", "2"});
  ExpectOk(r);
  // scores = x + bias = {1.5, 1, 5, 4}: bird first, then fish.
  EXPECT_NE(r.out.find("top-2"), std::string::npos) << r.out;
  const size_t bird = r.out.find("bird"), fish = r.out.find("fish");
  ASSERT_NE(bird, std::string::npos) << r.out;
  ASSERT_NE(fish, std::string::npos) << r.out;
  EXPECT_LT(bird, fish);
  EXPECT_EQ(r.out.find("cat"), std::string::npos) << r.out;
  // Named input and float64 data work too.
  io::HostTensor f64 = io::HostTensor::Zeros(io::ElementType::kFloat64, {1, 4});
  ExpectOk(RunOutpost({"run", classifier_, "--input", "x=" + WriteNpy("d.npy", f64)}));
}

TEST_F(CliTest, RunWritesOutputs) {
  const std::string x =
      WriteNpy("x.npy", io::HostTensor::Float32({1, 4}, std::vector<float>{1, 2, 3, 4}));
  const std::string y = dir_ + "/y.npy";
  ExpectOk(RunOutpost({"run", classifier_, "--input", x, "--output", y}));
  Expected<io::HostTensor> t = io::ReadNpy(y);
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->shape, (std::vector<int64_t>{1, 4}));
  EXPECT_FLOAT_EQ(t->values<float>()[2], 3 + kTinyBias[2]);
  ExpectOk(RunOutpost({"run", classifier_, "--input", x, "--output", "scores=" + dir_ + "/s.npy"}));
  EXPECT_TRUE(fs::exists(dir_ + "/s.npy"));

  ExpectError(RunOutpost({"run", classifier_, "--input", x, "--output", dir_ + "/no/dir/y.npy"}),
              "directory does not exist");
  EXPECT_FALSE(fs::exists(dir_ + "/no"));
}

TEST_F(CliTest, RunPrintsNonClassifierTensors) {
  const std::string header = "P5\n4 4\n255\n";
  std::vector<uint8_t> pgm(header.begin(), header.end());
  for (int i = 0; i < 16; ++i) pgm.push_back(static_cast<uint8_t>(i * 17));
  WriteBytes(dir_ + "/x.pgm", pgm);
  const CliResult r = RunOutpost({"run", image_model_, "--input", dir_ + "/x.pgm"});
  ExpectOk(r);
  EXPECT_NE(r.out.find("output 'y' [1,1,4,4] float32"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max 2"), std::string::npos) << r.out;  // (255/255 - 0.5) / 0.25
}

TEST_F(CliTest, WrongInputShape) {
  const std::string x =
      WriteNpy("x.npy", io::HostTensor::Float32({4}, std::vector<float>{1, 2, 3, 4}));
  ExpectError(RunOutpost({"run", classifier_, "--input", x}),
              "input 'x' expects [1,4] float32, got [4] float32");
  WriteBytes(dir_ + "/x.bin", std::vector<uint8_t>(12));
  ExpectError(RunOutpost({"run", classifier_, "--input", dir_ + "/x.bin"}), "needs 16");
}

TEST_F(CliTest, NonImageInput) {
  WriteBytes(dir_ + "/notes.txt", {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  ExpectError(RunOutpost({"run", image_model_, "--input", dir_ + "/notes.txt"}),
              "notes.txt: not a .npy array, a raw .bin tensor or a supported image");
  WriteBytes(dir_ + "/fake.png", {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0});
  ExpectError(RunOutpost({"run", image_model_, "--input", dir_ + "/fake.png"}), "fake.png");
}

TEST_F(CliTest, SelfTest) {
  const CliResult r = RunOutpost({"run", classifier_, "--self-test"});
  ExpectOk(r);
  EXPECT_NE(r.out.find("self-test: passed"), std::string::npos);
  TinyModelOptions bad;
  bad.wrong_golden_output = true;
  WriteBytes(dir_ + "/bad.opm", TinyClassifierOpm(bad));
  ExpectError(RunOutpost({"run", dir_ + "/bad.opm", "--self-test"}),
              "self-test: output 0 differs at element 2");
  ExpectError(RunOutpost({"run", image_model_, "--self-test"}), "carries no self-test");
}

TEST_F(CliTest, InspectJson) {
  const CliResult r = RunOutpost({"inspect", classifier_, "--json"});
  ExpectOk(r);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"arena_bytes", "arena_lower_bound_bytes", "macs", "ops", "inputs",
                          "outputs", "weight_bytes", "total_arena_bytes"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["arena_bytes"], 128);
  EXPECT_EQ(j["weight_bytes"], 16);
  EXPECT_EQ(j["ops"].size(), 1u);
  EXPECT_EQ(j["ops"][0]["op"], "ADD");
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json::array({1, 4}));
  EXPECT_EQ(j["labels"].size(), 4u);
  EXPECT_GT(j["total_arena_bytes"].get<int64_t>(), 128);
  EXPECT_EQ(j["self_test"], true);

  const CliResult text = RunOutpost({"inspect", image_model_});
  ExpectOk(text);
  EXPECT_NE(text.out.find("total arena"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("color gray"), std::string::npos) << text.out;
}

TEST_F(CliTest, BenchSaysHowManyThreadsItUsed) {
  const CliResult r = RunOutpost({"bench", classifier_, "--runs", "3", "--threads", "4"});
  ExpectOk(r);
  EXPECT_NE(r.out.find("threads:  4 available to the kernels"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("median"), std::string::npos);
  EXPECT_NE(r.out.find("add_bias"), std::string::npos);
  EXPECT_NE(r.out.find("start:    load "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pool:     a "), std::string::npos) << r.out;
  const CliResult j2 =
      RunOutpost({"bench", classifier_, "--runs", "3", "--threads", "2", "--json"});
  ExpectOk(j2);
  const nlohmann::json pooled = nlohmann::json::parse(j2.out);
  EXPECT_GT(pooled["parallel_for_us"]["work"].get<double>(), 0.0);
  EXPECT_GT(pooled["parallel_for_us"]["back_to_back"].get<double>(), 0.0);
  EXPECT_GT(pooled["parallel_for_us"]["after_idle"].get<double>(), 0.0);
  const CliResult j = RunOutpost({"bench", classifier_, "--runs", "3", "--threads", "1", "--json"});
  ExpectOk(j);
  const nlohmann::json parsed = nlohmann::json::parse(j.out);
  EXPECT_EQ(parsed["threads_used"], 1);
  EXPECT_TRUE(parsed["latency_ms"].contains("p90"));
  EXPECT_GE(parsed["load_ms"].get<double>(), 0.0);
  EXPECT_GT(parsed["first_run_ms"].get<double>(), 0.0);
  EXPECT_FALSE(parsed.contains("parallel_for_us"));  // no pool with one thread
  EXPECT_EQ(RunOutpost({"bench", classifier_, "--threads", "-1"}).exit_code, 2);
  ExpectOk(RunOutpost({"run", classifier_, "--self-test", "--threads", "2"}));
  EXPECT_EQ(parsed["ops"].size(), 1u);
  EXPECT_TRUE(parsed["latency_ms"].contains("p99"));
}

// The image model is a 4x4 relu: an image with one bright pixel at k predicts "class" k.
std::vector<uint8_t> OneHotImages(const std::vector<int>& hot) {
  std::vector<uint8_t> out = {0, 0, 8, 3, 0, 0, 0, static_cast<uint8_t>(hot.size()),
                              0, 0, 0, 4, 0, 0, 0, 4};
  for (int k : hot)
    for (int i = 0; i < 16; ++i) out.push_back(i == k ? 255 : 0);
  return out;
}

TEST_F(CliTest, EvalIdx) {
  const std::vector<int> hot = {3, 0, 15, 7, 7};
  WriteBytes(dir_ + "/images", OneHotImages(hot));
  std::vector<uint8_t> labels = {0, 0, 8, 1, 0, 0, 0, 5, 3, 0, 15, 7, 2};  // last one wrong
  gzFile gz = gzopen((dir_ + "/labels.gz").c_str(), "wb");
  gzwrite(gz, labels.data(), static_cast<unsigned>(labels.size()));
  gzclose(gz);
  const CliResult r = RunOutpost(
      {"eval", image_model_, "--images", dir_ + "/images", "--labels", dir_ + "/labels.gz"});
  ExpectOk(r);
  EXPECT_NE(r.out.find("accuracy: 80.00%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("correct: 4/5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("confusion matrix"), std::string::npos) << r.out;

  const CliResult limited = RunOutpost({"eval", image_model_, "--images", dir_ + "/images",
                                        "--labels", dir_ + "/labels.gz", "--limit", "2", "--json"});
  ExpectOk(limited);
  const nlohmann::json j = nlohmann::json::parse(limited.out);
  EXPECT_EQ(j["total"], 2);
  EXPECT_EQ(j["accuracy"], 1.0);

  ExpectError(RunOutpost({"eval", image_model_, "--images", dir_ + "/labels.gz", "--labels",
                          dir_ + "/images"}),
              "expected uint8 images");
  ExpectError(RunOutpost({"eval", classifier_, "--images", dir_ + "/images", "--labels",
                          dir_ + "/labels.gz"}),
              "not an image input");
}

TEST_F(CliTest, EvalFolder) {
  // Classes named by sorted folder: "a" = class 0, "b" = class 1 (the model has no labels).
  const std::string header = "P5\n4 4\n255\n";
  auto pgm = [&](int hot) {
    std::vector<uint8_t> b(header.begin(), header.end());
    for (int i = 0; i < 16; ++i) b.push_back(i == hot ? 255 : 0);
    return b;
  };
  fs::create_directories(dir_ + "/data/a");
  fs::create_directories(dir_ + "/data/b");
  WriteBytes(dir_ + "/data/a/1.pgm", pgm(0));
  WriteBytes(dir_ + "/data/a/2.pgm", pgm(1));
  WriteBytes(dir_ + "/data/b/1.pgm", pgm(1));
  WriteBytes(dir_ + "/data/b/README", {'x'});
  const CliResult r = RunOutpost({"eval", image_model_, "--data", dir_ + "/data"});
  ExpectOk(r);
  EXPECT_NE(r.out.find("accuracy: 66.67%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("correct: 2/3"), std::string::npos) << r.out;

  WriteBytes(dir_ + "/data/b/broken.png", {'n', 'o', 'p', 'e'});
  ExpectError(RunOutpost({"eval", image_model_, "--data", dir_ + "/data"}), "broken.png");
}

// An ONNX model whose only node (Hardmax) the importer does not support.
void WriteUnsupportedOnnx(const std::string& path) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("outpost tests");
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("unsupported");
  onnx::NodeProto* n = g->add_node();
  n->set_op_type("Hardmax");
  n->set_name("hardmax0");
  n->add_input("x");
  n->add_output("y");
  auto describe = [](onnx::ValueInfoProto* vi, const char* name) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_value(1);
    tt->mutable_shape()->add_dim()->set_dim_value(10);
  };
  describe(g->add_input(), "x");
  describe(g->add_output(), "y");
  std::string bytes;
  ASSERT_TRUE(model.SerializeToString(&bytes));
  WriteBytes(path, std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

TEST_F(CliTest, CompileRefusesUnsupportedOps) {
  WriteUnsupportedOnnx(dir_ + "/hardmax.onnx");
  const std::string out = dir_ + "/hardmax.opm";
  ExpectError(RunOutpost({"compile", dir_ + "/hardmax.onnx", "-o", out}), "Hardmax");
  EXPECT_FALSE(fs::exists(out));
  // Nothing else (no temporary file) is left in the directory either.
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find("hardmax.opm"), std::string::npos) << e.path();

  WriteBytes(dir_ + "/garbage.onnx", {'n', 'o', 't', ' ', 'o', 'n', 'n', 'x'});
  ExpectError(RunOutpost({"compile", dir_ + "/garbage.onnx", "-o", out}), "garbage.onnx");
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CliTest, CompileLabelsArgument) {
  WriteUnsupportedOnnx(dir_ + "/m.onnx");
  ExpectError(RunOutpost({"compile", dir_ + "/m.onnx", "-o", dir_ + "/m.opm", "--labels",
                          dir_ + "/labels.txt"}),
              "no such labels file");
  ExpectError(RunOutpost({"compile", dir_ + "/m.onnx", "-o", dir_ + "/m.opm", "--mean", "0.5,x"}),
              "'x' is not a number", 2);
}

}  // namespace
}  // namespace outpost::testing
