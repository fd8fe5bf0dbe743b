// exporter::ExportC on tiny models: the generated files, the figures they carry, the kernels
// they name, and one clear error per thing that cannot be exported. The generated code itself
// is compiled and run by the export_c_kws_host test (tests/export/CMakeLists.txt) and, for
// microcontrollers, by the Cortex-M builds.
#include "compiler/export/c_export.h"

#include <gtest/gtest.h>

#include "io/model_file.h"
#include "runtime/interpreter.h"
#include "tests/io/test_models.h"

namespace outpost::exporter {
namespace {

const CExportFile* FindFile(const CExport& e, const std::string& name) {
  for (const CExportFile& f : e.files)
    if (f.file_name == name) return &f;
  return nullptr;
}

io::LoadedModel Load(const std::vector<uint8_t>& bytes) {
  return io::LoadedModel::FromBytes("tiny.opm", bytes).value();
}

TEST(CExport, WritesTheModelItsKernelsAndTheHostOutput) {
  const io::LoadedModel model = Load(testing::TinyClassifierOpm());
  CExportOptions options;
  options.name = "tiny";
  options.source_label = "tiny.opm";
  const CExport e = ExportC(model.model(), options).value();

  ASSERT_EQ(e.files.size(), 3u);
  const CExportFile* header = FindFile(e, "tiny_model.h");
  const CExportFile* data = FindFile(e, "tiny_model.cc");
  const CExportFile* main = FindFile(e, "tiny_main.cc");
  ASSERT_TRUE(header && data && main);
  EXPECT_EQ(e.model_bytes, model.model().size());
  EXPECT_EQ(e.num_tensors, model.model().num_tensors());
  EXPECT_EQ(e.num_operators, 1);
  // One ADD on float32: exactly one kernel, and it is named in the registration function.
  ASSERT_EQ(e.kernels, std::vector<std::string>{"kAddF32Ref"});
  EXPECT_NE(data->text.find("resolver.Add(outpost::kernels::kAddF32Ref)"), std::string::npos);
  // The arena figure plus this host's records is the host's whole arena.
  EXPECT_EQ(e.model_arena_bytes + Interpreter::BookkeepingBytes(e.num_tensors, e.num_operators),
            e.host_arena_bytes);
  EXPECT_NE(header->text.find("#define TINY_MODEL_ARENA_BYTES " +
                              std::to_string(e.model_arena_bytes) + "u"),
            std::string::npos);
  EXPECT_NE(header->text.find("#define TINY_PLAN_BYTES " + std::to_string(e.plan_bytes) + "u"),
            std::string::npos);
  // The model's bytes, all of them, 64-byte aligned; the first is the file's first byte.
  EXPECT_NE(data->text.find("alignas(64) const uint8_t tiny_model[] = {"), std::string::npos);
  size_t commas = 0;
  const size_t begin = data->text.find("tiny_model[] = {");
  const size_t end = data->text.find("};", begin);
  for (size_t i = begin; i < end; ++i) commas += data->text[i] == ',';
  EXPECT_EQ(commas, model.model().size());
  // x + {0.5, -1, 2, 0} on the self-test input: 16 bytes of float32 expected output.
  EXPECT_EQ(e.expected_output_bytes, 16u);
  EXPECT_NE(main->text.find("tiny_register_kernels(resolver)"), std::string::npos);
  EXPECT_NE(main->text.find("g_arena[TINY_ARENA_BYTES]"), std::string::npos);
  EXPECT_EQ(main->text.find("@NAME@"), std::string::npos);
  // No int8 CONV_2D or FULLY_CONNECTED: no Cortex-M twins, and no conditional code.
  EXPECT_TRUE(e.cortex_m_kernels.empty());
  EXPECT_TRUE(e.cortex_m_mve_kernels.empty());
  EXPECT_EQ(data->text.find("OUTPOST_CORTEX_M_"), std::string::npos);
  EXPECT_NE(header->text.find("constexpr size_t TINY_NUM_KERNELS = 1;"), std::string::npos);
}

// The committed int8 CNN of the Cortex-M tests: its CONV_2D and FULLY_CONNECTED kernels have
// twins, added after the reference kernels only where the build compiles them: the MVE ones
// where it defines OUTPOST_CORTEX_M_MVE_KERNELS, else the DSP-extension ones where it defines
// OUTPOST_CORTEX_M_DSP_KERNELS, with the resolver's capacity counting them there.
TEST(CExport, AddsTheCortexMTwinsUnderTheirMacros) {
  const io::LoadedModel model =
      Load(testing::ReadBytes(std::string(OUTPOST_SOURCE_DIR) + "/tests/mcu/small_cnn_int8.opm"));
  CExportOptions options;
  options.name = "cnn";
  const CExport e = ExportC(model.model(), options).value();
  const CExportFile* header = FindFile(e, "cnn_model.h");
  const CExportFile* data = FindFile(e, "cnn_model.cc");
  ASSERT_TRUE(header && data);
  EXPECT_EQ(e.cortex_m_kernels,
            (std::vector<std::string>{"kConv2DI8CortexMDsp", "kFullyConnectedI8CortexMDsp"}));
  EXPECT_EQ(e.cortex_m_mve_kernels,
            (std::vector<std::string>{"kConv2DI8CortexMMve", "kFullyConnectedI8CortexMMve"}));
  const std::string any_twins =
      "#if defined(OUTPOST_CORTEX_M_MVE_KERNELS) || defined(OUTPOST_CORTEX_M_DSP_KERNELS)\n";
  const size_t n = e.kernels.size();
  EXPECT_NE(
      header->text.find(any_twins + "constexpr size_t CNN_NUM_KERNELS = " + std::to_string(n + 2) +
                        ";\n#else\nconstexpr size_t CNN_NUM_KERNELS = " + std::to_string(n) +
                        ";\n#endif\n"),
      std::string::npos)
      << header->text;
  // The reference kernels, then the MVE twins, else the DSP ones: one family is registered.
  const size_t last_ref = data->text.rfind("Ref));");
  const size_t mve = data->text.find("#if defined(OUTPOST_CORTEX_M_MVE_KERNELS)\n");
  const size_t conv_mve = data->text.find("resolver.Add(outpost::kernels::kConv2DI8CortexMMve)");
  const size_t fc_mve =
      data->text.find("resolver.Add(outpost::kernels::kFullyConnectedI8CortexMMve)");
  const size_t dsp = data->text.find("#elif defined(OUTPOST_CORTEX_M_DSP_KERNELS)\n");
  const size_t conv = data->text.find("resolver.Add(outpost::kernels::kConv2DI8CortexMDsp)");
  const size_t fc = data->text.find("resolver.Add(outpost::kernels::kFullyConnectedI8CortexMDsp)");
  const size_t end = data->text.find("#endif\n", fc);
  ASSERT_NE(mve, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  EXPECT_LT(last_ref, mve);
  EXPECT_LT(mve, conv_mve);
  EXPECT_LT(conv_mve, fc_mve);
  EXPECT_LT(fc_mve, dsp);
  EXPECT_LT(dsp, conv);
  EXPECT_LT(conv, fc);
  EXPECT_NE(data->text.find(any_twins + "#include \"runtime/kernels/cortex_m/cortex_m_kernels.h\""),
            std::string::npos);
}

TEST(CExport, RefusesANameThatIsNotACIdentifier) {
  const io::LoadedModel model = Load(testing::TinyClassifierOpm());
  for (const char* bad : {"", "3d", "kws-int8", "a b"}) {
    CExportOptions options;
    options.name = bad;
    const Expected<CExport> e = ExportC(model.model(), options);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.message().find("not a C identifier"), std::string::npos) << e.message();
  }
}

TEST(CExport, NeedsTheModelsSelfTest) {
  testing::TinyModelOptions o;
  o.self_test = false;
  const io::LoadedModel model = Load(testing::TinyClassifierOpm(o));
  CExportOptions options;
  options.name = "tiny";
  const Expected<CExport> e = ExportC(model.model(), options);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("no self-test input"), std::string::npos) << e.message();
}

TEST(CExport, IdentifiersFromFileNames) {
  EXPECT_EQ(CIdentifierFromFileName("/tmp/kws_dscnn-int8.opm"), "kws_dscnn_int8");
  EXPECT_EQ(CIdentifierFromFileName("model.opm"), "model");
  EXPECT_EQ(CIdentifierFromFileName("3d.opm"), "model_3d");
  EXPECT_EQ(CIdentifierFromFileName("dir.v2/net.int8.opm"), "net");
}

}  // namespace
}  // namespace outpost::exporter
