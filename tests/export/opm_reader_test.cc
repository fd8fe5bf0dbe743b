// ReadOpmGraph is the inverse of EmitOpm: a compiled model read back and emitted again gives
// the same bytes, and damaged files are refused with the runtime reader's message.
#include <gtest/gtest.h>

#include "compiler/compile.h"
#include "compiler/emit/opm_reader.h"
#include "compiler/emit/opm_writer.h"

namespace outpost {
namespace {

const std::string kZooDir = std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/";

TEST(OpmReader, RoundTripsEveryZooModelByteForByte) {
  for (const char* name : {"fashion_cnn", "fashion_mobilenet", "kws_dscnn", "ad_autoencoder"}) {
    SCOPED_TRACE(name);
    Expected<std::vector<uint8_t>> bytes = compiler::CompileOnnxToOpm(kZooDir + name + "/model.onnx", {});
    ASSERT_TRUE(bytes.ok()) << bytes.message();
    const ir::Graph g = emit::ReadOpmGraph(*bytes);
    EXPECT_FALSE(g.nodes.empty());
    ASSERT_TRUE(g.plan.has_value());
    ASSERT_TRUE(g.self_test.has_value());
    EXPECT_EQ(emit::EmitOpm(g), *bytes);
  }
}

TEST(OpmReader, RefusesDamagedFiles) {
  Expected<std::vector<uint8_t>> bytes =
      compiler::CompileOnnxToOpm(kZooDir + "fashion_cnn/model.onnx", {});
  ASSERT_TRUE(bytes.ok()) << bytes.message();
  std::vector<uint8_t> truncated(bytes->begin(), bytes->end() - 1);
  try {
    emit::ReadOpmGraph(truncated);
    FAIL() << "a truncated file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a valid .opm model"), std::string::npos) << e.what();
  }
  EXPECT_THROW(emit::ReadOpmGraph(std::vector<uint8_t>{}), Error);
}

}  // namespace
}  // namespace outpost
