#include "io/session.h"

#include <gtest/gtest.h>

#include "io/classification.h"
#include "io/input_file.h"
#include "io/model_file.h"
#include "io/npy.h"
#include "io/op_info.h"
#include "tests/io/test_models.h"

namespace outpost::io {
namespace {

LoadedModel Load(const std::vector<uint8_t>& bytes, const std::string& name = "tiny.opm") {
  Expected<LoadedModel> m = LoadedModel::FromBytes(name, bytes);
  EXPECT_TRUE(m.ok()) << m.message();
  return std::move(m).value();
}

TEST(LoadedModelTest, OpensFromDiskAndVerifiesHashes) {
  const std::string dir = testing::MakeTempDir("loaded");
  testing::WriteBytes(dir + "/m.opm", testing::TinyClassifierOpm());
  Expected<LoadedModel> m = LoadedModel::Open(dir + "/m.opm");
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(m->model().num_operators(), 1);
  Expected<size_t> hashes = m->VerifyContentHashes();
  ASSERT_TRUE(hashes.ok()) << hashes.message();
  EXPECT_EQ(*hashes, 3u);  // bias + golden input + golden output
}

TEST(LoadedModelTest, HashMismatchNamesTheTensor) {
  std::vector<uint8_t> bytes = testing::TinyClassifierOpm();
  LoadedModel good = Load(bytes);
  // Flip one byte of the bias: still a structurally valid model, but not the one written.
  const uint64_t offset = good.fb().buffers()->Get(0)->offset();
  bytes[offset] ^= 1;
  LoadedModel bad = Load(bytes);
  Expected<size_t> r = bad.VerifyContentHashes();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("content hash mismatch for tensor 'bias'"), std::string::npos)
      << r.message();
}

TEST(LoadedModelTest, CorruptModelsAreRefusedWithThePath) {
  std::vector<uint8_t> bytes = testing::TinyClassifierOpm();
  std::vector<uint8_t> truncated(bytes.begin(), bytes.end() - 10);
  Expected<LoadedModel> m = LoadedModel::FromBytes("cut.opm", truncated);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.message().rfind("cut.opm: file is", 0), 0u) << m.message();
  std::vector<uint8_t> junk(300, 0x42);
  m = LoadedModel::FromBytes("junk.opm", junk);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.message(), "junk.opm: not an Outpost model (bad magic)");
}

TEST(SessionTest, RunsAndChecksInputShapes) {
  const LoadedModel model = Load(testing::TinyClassifierOpm());
  Expected<std::unique_ptr<Session>> s = Session::Create(model);
  ASSERT_TRUE(s.ok()) << s.message();
  Session& session = **s;
  EXPECT_EQ(session.input_name(0), "x");
  EXPECT_EQ(session.output_name(0), "scores");
  EXPECT_EQ(session.FindInput("x"), 0);
  EXPECT_EQ(session.FindInput("nope"), -1);

  const HostTensor wrong = HostTensor::Float32({4}, std::vector<float>{1, 2, 3, 4});
  Expected<Unit> r = session.SetInput(0, wrong);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(),
            "input 'x' expects [1,4] float32, got [4] float32 (same number of elements: "
            "reshape the data to the model's shape)");
  HostTensor ints = HostTensor::Zeros(ElementType::kInt32, {1, 4});
  EXPECT_EQ(session.SetInput(0, ints).message(),
            "input 'x' expects [1,4] float32, got [1,4] int32");

  ASSERT_TRUE(
      session.SetInput(0, HostTensor::Float32({1, 4}, std::vector<float>{1, 2, 3, 4})).ok());
  ASSERT_TRUE(session.Run().ok());
  const std::vector<float> out = session.OutputAsFloat(0);
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out[i], i + 1 + testing::kTinyBias[i]);
  EXPECT_EQ(ArgMax(out), 2);
  Expected<std::span<const float>> typed = session.OutputData<float>(0);
  ASSERT_TRUE(typed.ok()) << typed.message();
  EXPECT_FLOAT_EQ((*typed)[3], 4 + testing::kTinyBias[3]);
  EXPECT_EQ(session.InputData<int8_t>(0).message(), "input 'x' is float32, not int8");
  const HostTensor t = session.Output(0);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{1, 4}));
  EXPECT_GT(session.arena().total_bytes, 0u);
}

TEST(SessionTest, ProfilesEveryOperator) {
  const LoadedModel model = Load(testing::TinyClassifierOpm());
  SessionOptions options;
  options.profile = true;
  options.threads = 4;
  std::unique_ptr<Session> s = std::move(Session::Create(model, options).value());
  ASSERT_TRUE(s->Run().ok());
  ASSERT_EQ(s->op_profiles().size(), 1u);
  const OpProfile& p = s->op_profiles()[0];
  EXPECT_EQ(p.op, "ADD");
  EXPECT_EQ(p.name, "add_bias");
  EXPECT_FALSE(p.kernel.empty());
  EXPECT_EQ(p.output_shape, (std::vector<int32_t>{1, 4}));
  EXPECT_GE(p.nanos, 0);
  EXPECT_EQ(s->threads_requested(), 4);
  EXPECT_EQ(s->threads_used(), 4);
}

TEST(SessionTest, ThreadsDefaultToOneAndZeroMeansOnePerCore) {
  const LoadedModel model = Load(testing::TinyClassifierOpm());
  std::unique_ptr<Session> one = std::move(Session::Create(model).value());
  EXPECT_EQ(one->threads_used(), 1);
  SessionOptions options;
  options.threads = 0;
  std::unique_ptr<Session> per_core = std::move(Session::Create(model, options).value());
  EXPECT_EQ(per_core->threads_requested(), 0);
  EXPECT_EQ(per_core->threads_used(), PhysicalCoreCount());
  ASSERT_TRUE(per_core->Run().ok());
  options.threads = -1;
  EXPECT_FALSE(Session::Create(model, options).ok());
}

TEST(SessionTest, SelfTestPassesAndFails) {
  const LoadedModel good = Load(testing::TinyClassifierOpm());
  std::unique_ptr<Session> s = std::move(Session::Create(good).value());
  EXPECT_TRUE(s->RunSelfTest().ok());

  testing::TinyModelOptions o;
  o.wrong_golden_output = true;
  const LoadedModel bad = Load(testing::TinyClassifierOpm(o), "bad.opm");
  s = std::move(Session::Create(bad).value());
  Expected<Unit> r = s->RunSelfTest();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("self-test: output 0 differs at element 2"), std::string::npos)
      << r.message();

  o = {};
  o.self_test = false;
  const LoadedModel none = Load(testing::TinyClassifierOpm(o), "none.opm");
  s = std::move(Session::Create(none).value());
  EXPECT_EQ(s->RunSelfTest().message(), "none.opm: the model carries no self-test");
}

TEST(SessionTest, SetInputFromImageWritesWhatTheFloatPathWrites) {
  const LoadedModel model = Load(testing::TinyImageOpm());
  std::unique_ptr<Session> s = Session::Create(model).value();
  PreprocessPlan plan = MakePreprocessPlan(model.model(), 0).value();
  std::vector<uint8_t> pixels(8 * 6);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37 % 251);
  const ImageView image{pixels.data(), 8, 6, PixelFormat::kGray, 0};

  // The reference: preprocess to floats, then the float setter.
  std::vector<float> want(plan.num_values());
  Preprocess(image, plan, want.data());
  ASSERT_TRUE(s->SetInputFromFloat(0, want).ok());
  const std::vector<float> reference(s->InputData<float>(0)->begin(), s->InputData<float>(0)->end());

  // Straight into the input: the same values; nothing kept.
  std::fill(s->InputData<float>(0)->begin(), s->InputData<float>(0)->end(), -1.0f);
  ASSERT_TRUE(s->SetInputFromImage(0, image, plan).ok());
  EXPECT_EQ(std::vector<float>(s->InputData<float>(0)->begin(), s->InputData<float>(0)->end()),
            reference);

  // With the floats kept for a post-processor: they are the preprocessed values.
  std::vector<float> kept(plan.num_values(), -1.0f);
  ASSERT_TRUE(s->SetInputFromImage(0, image, plan, kept).ok());
  EXPECT_EQ(kept, want);

  std::vector<float> short_buffer(3);
  EXPECT_EQ(s->SetInputFromImage(0, image, plan, short_buffer).message(),
            "the float buffer holds 3 values, not 16");
  EXPECT_EQ(s->SetInputFromImage(1, image, plan).message(), "no input 1");
}

TEST(InputFileTest, LoadsNpyRawAndImages) {
  const std::string dir = testing::MakeTempDir("input_file");
  const LoadedModel model = Load(testing::TinyImageOpm());
  std::unique_ptr<Session> s = std::move(Session::Create(model).value());

  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i) - 8;
  // NumPy's default float64 is narrowed for a float32 input.
  HostTensor f64 = HostTensor::Zeros(ElementType::kFloat64, {1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) f64.mutable_values<double>()[i] = v[i];
  ASSERT_TRUE(WriteNpy(dir + "/x.npy", f64).ok());
  Expected<LoadedInput> in = LoadInputFile(*s, 0, dir + "/x.npy");
  ASSERT_TRUE(in.ok()) << in.message();
  EXPECT_EQ(in->kind, InputFileKind::kNpy);
  ASSERT_TRUE(s->Run().ok());
  EXPECT_EQ(s->OutputAsFloat(0)[15], 7.0f);
  EXPECT_EQ(s->OutputAsFloat(0)[0], 0.0f);  // relu

  ASSERT_TRUE(WriteNpy(dir + "/bad.npy", HostTensor::Float32({16}, v)).ok());
  in = LoadInputFile(*s, 0, dir + "/bad.npy");
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.message(), dir +
                              "/bad.npy: input 'image' expects [1,1,4,4] float32, got [16] "
                              "float32 (same number of elements: reshape the data to the "
                              "model's shape)");

  std::vector<uint8_t> raw(64);
  std::memcpy(raw.data(), v.data(), 64);
  testing::WriteBytes(dir + "/x.bin", raw);
  in = LoadInputFile(*s, 0, dir + "/x.bin");
  ASSERT_TRUE(in.ok()) << in.message();
  EXPECT_EQ(in->kind, InputFileKind::kRaw);

  // A 4x4 PGM: preprocessed as (p/255 - 0.5) / 0.25, then relu.
  const std::string header = "P5\n4 4\n255\n";
  std::vector<uint8_t> pgm(header.begin(), header.end());
  for (int i = 0; i < 16; ++i) pgm.push_back(static_cast<uint8_t>(i * 17));
  testing::WriteBytes(dir + "/x.pgm", pgm);
  in = LoadInputFile(*s, 0, dir + "/x.pgm");
  ASSERT_TRUE(in.ok()) << in.message();
  EXPECT_EQ(in->kind, InputFileKind::kImage);
  ASSERT_TRUE(s->Run().ok());
  EXPECT_FLOAT_EQ(s->OutputAsFloat(0)[15], (255 * (1.0f / 255) - 0.5f) / 0.25f);

  testing::WriteBytes(dir + "/notes.txt", {'h', 'i', '\n'});
  in = LoadInputFile(*s, 0, dir + "/notes.txt");
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.message().find("not a .npy array, a raw .bin tensor or a supported image"),
            std::string::npos);
}

TEST(ClassificationTest, TopKAndConfusion) {
  const std::vector<float> s = {0.1f, 3.0f, -1.0f, 3.0f, 2.0f};
  EXPECT_EQ(TopK(s, 3), (std::vector<int>{1, 3, 4}));
  EXPECT_EQ(TopK(s, 10).size(), 5u);
  EXPECT_FALSE(LooksLikeProbabilities(s));
  const std::vector<float> p = Softmax(s);
  EXPECT_TRUE(LooksLikeProbabilities(p));
  ConfusionMatrix cm(3);
  cm.Add(0, 0);
  cm.Add(0, 1);
  cm.Add(2, 2);
  cm.Add(1, 7);
  EXPECT_EQ(cm.total(), 4);
  EXPECT_EQ(cm.correct(), 2);
  EXPECT_DOUBLE_EQ(cm.accuracy(), 0.5);
  EXPECT_EQ(cm.count(0, 1), 1);
  EXPECT_TRUE(cm.has_other());
  EXPECT_DOUBLE_EQ(cm.recall(0), 0.5);
}

TEST(OpInfoTest, DescribesOperators) {
  const LoadedModel model = Load(testing::TinyClassifierOpm());
  const OpInfo info = DescribeOperator(model.model(), 0);
  EXPECT_EQ(info.op, "ADD");
  EXPECT_EQ(info.macs, 0u);
  const ModelTotals totals = ComputeTotals(model.model());
  EXPECT_EQ(totals.ops, 1);
  EXPECT_EQ(totals.params, 4u);
  EXPECT_EQ(totals.weight_bytes, 16u);
}

}  // namespace
}  // namespace outpost::io
