// The drift reference a compiled model carries: its content on the zoo's Fashion-MNIST CNN,
// size and determinism, every refusal of a missing or malformed one, and signed packages of
// such models (the package's whole-model hash covers the metadata).
#include "io/model_reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "agent/drift/drift_monitor.h"
#include "compiler/emit/opm_writer.h"
#include "compiler/quantize/model_reference_data.h"
#include "package/pack.h"
#include "package/verify.h"
#include "tests/agent/fashion_fixture.h"
#include "tests/package/package_fixtures.h"

namespace outpost::agent {
namespace {

using testing::Fashion;

class ModelReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::FashionAvailable())
      GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)";
  }
};

std::string ReferenceJson(const ir::Graph& g) { return g.info.metadata.at(io::kReferenceKey); }

io::LoadedModel WithReferenceText(const std::string& text) {
  ir::Graph g = Fashion().float_graph;
  g.info.metadata[io::kReferenceKey] = text;
  return io::LoadedModel::FromBytes("bad.opm", emit::EmitOpm(g)).value();
}

TEST_F(ModelReferenceTest, ClassifierReferenceHoldsClassesScoresAndInputStatistics) {
  io::LoadedModel m = io::LoadedModel::FromBytes("fashion.opm", Fashion().float_opm).value();
  const io::ModelReference r = io::ReadModelReference(m).value();
  EXPECT_EQ(r.version, 1);
  EXPECT_EQ(r.samples, 1000u);
  ASSERT_EQ(r.inputs.size(), 1u);
  const io::InputReference& in = r.inputs[0];
  EXPECT_EQ(in.shape, (std::vector<int64_t>{1, 1, 28, 28}));
  EXPECT_EQ(in.channel_axis, 1);  // NCHW
  ASSERT_EQ(in.mean.size(), 1u);
  // The model normalizes with Fashion-MNIST's own mean and std: its images come out near
  // mean 0, std 1.
  EXPECT_NEAR(in.mean[0], 0.0, 0.05);
  EXPECT_NEAR(in.std[0], 1.0, 0.05);
  EXPECT_GE(in.values.edges.size(), 2u);
  EXPECT_LE(in.values.counts.size(), static_cast<size_t>(2 * io::kReferenceBins - 1));
  EXPECT_TRUE(std::is_sorted(in.values.edges.begin(), in.values.edges.end()));

  ASSERT_EQ(r.outputs.size(), 1u);
  const io::OutputReference& out = r.outputs[0];
  EXPECT_TRUE(out.classes);
  ASSERT_EQ(out.class_counts.size(), 10u);
  uint64_t total = 0;
  for (uint64_t c : out.class_counts) {
    total += c;
    // Evenly spaced test images: every class about 10 %.
    EXPECT_GT(c, 60u);
    EXPECT_LT(c, 140u);
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(out.values.total(), 1000u);  // one top-1 score per sample
  EXPECT_GE(out.values.counts.size(), static_cast<size_t>(io::kReferenceBins));
  EXPECT_LE(out.values.counts.size(), static_cast<size_t>(2 * io::kReferenceBins - 1));
}

TEST_F(ModelReferenceTest, SmallDeterministicAndRoundTrips) {
  const std::string json = ReferenceJson(Fashion().float_graph);
  std::printf("fashion_cnn reference: %zu bytes of JSON\n", json.size());
  EXPECT_LT(json.size(), 2048u);
  EXPECT_EQ(io::ModelReferenceToJson(io::ParseModelReference(json).value()), json);

  // Made twice from the same data (200 samples: quick under the sanitizers too): same bytes,
  // and the same model file.
  quant::Dataset some;
  some.sample_shape = Fashion().reference.sample_shape;
  some.samples.assign(Fashion().reference.samples.begin(),
                      Fashion().reference.samples.begin() + 200);
  ir::Graph a = Fashion().float_graph, b = Fashion().float_graph;
  const io::ModelReference r = quant::AddModelReference(a, some).value();
  quant::AddModelReference(b, some).value();
  EXPECT_EQ(r.samples, 200u);
  EXPECT_EQ(ReferenceJson(a), ReferenceJson(b));
  EXPECT_EQ(io::ModelReferenceToJson(r), ReferenceJson(a));
  EXPECT_EQ(emit::EmitOpm(a), emit::EmitOpm(b));
  EXPECT_NE(ReferenceJson(a), json);  // replaced, not kept
}

TEST_F(ModelReferenceTest, AbsentReferenceIsAnErrorAndGivesNoMonitor) {
  io::LoadedModel m = io::LoadedModel::FromBytes("plain.opm", Fashion().float_opm_plain).value();
  Expected<io::ModelReference> r = io::ReadModelReference(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(),
            "plain.opm: the model carries no drift reference (compile it with 'outpost compile "
            "--reference DATA')");
  Expected<DriftMonitor> monitor = DriftMonitor::ForModel(m);
  ASSERT_FALSE(monitor.ok());
  EXPECT_EQ(monitor.message(), r.message());
}

TEST_F(ModelReferenceTest, MalformedReferencesAreRefusedWithTheReason) {
  const std::string good = ReferenceJson(Fashion().float_graph);
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  const std::pair<std::string, std::string> cases[] = {
      {"{\"v\":1", "not valid JSON"},
      {"[1,2]", "not a JSON object"},
      {replaced("\"v\":1", "\"v\":2"), "version 2, this build reads version 1"},
      {replaced("\"samples\":1000", "\"samples\":0"), "'samples' must be a positive count"},
      {replaced("\"kind\":\"classes\"", "\"kind\":\"boxes\""), "must be 'classes' or 'values'"},
      {replaced("\"channel_axis\":1", "\"channel_axis\":7"), "channel_axis is out of range"},
      {replaced("\"counts\":[", "\"counts\":[-1,"), "holds a non-count"},
      {replaced("\"counts\":[", "\"counts\":[1,"), "counts for"},
      {replaced("\"mean\":[", "\"mean\":[0,"), "one mean and one std per channel"},
      {std::string(100, '[') + std::string(100, ']'), "nested too deeply"},
  };
  for (const auto& [text, reason] : cases) {
    Expected<DriftMonitor> monitor = DriftMonitor::ForModel(WithReferenceText(text));
    ASSERT_FALSE(monitor.ok()) << text;
    EXPECT_NE(monitor.message().find("bad.opm: model reference: "), std::string::npos)
        << monitor.message();
    EXPECT_NE(monitor.message().find(reason), std::string::npos) << monitor.message();
  }
}

TEST_F(ModelReferenceTest, PackagesOfSuchModelsVerifyAndTheSignatureCoversTheReference) {
  const package::KeyPair keys = outpost::testing::TestSigningPair();
  package::PackOptions o;
  o.version = "1.0.0";
  o.default_name = "fashion";
  const std::vector<uint8_t> pkg = package::PackModel(Fashion().float_opm, keys.secret, o).value();
  ASSERT_TRUE(package::VerifyPackageBytes(pkg, keys.public_key).ok());

  // One digit of the reference changed inside the package: refused.
  const std::string needle = "\"samples\":1000";
  auto at = std::search(pkg.begin(), pkg.end(), needle.begin(), needle.end());
  ASSERT_NE(at, pkg.end());
  std::vector<uint8_t> tampered = pkg;
  tampered[static_cast<size_t>(at - pkg.begin()) + needle.size() - 1] = '1';
  Expected<package::VerifiedPackage> v = package::VerifyPackageBytes(tampered, keys.public_key);
  ASSERT_FALSE(v.ok());
  std::printf("tampered reference: %s\n", v.message().c_str());
}

}  // namespace
}  // namespace outpost::agent
