// The hardware catalog and calibration points as committed load, and every way of getting the
// files wrong that the cost model would otherwise silently absorb is refused with a message
// that names the field.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "advisor/catalog/hardware_catalog.h"

namespace outpost::advisor {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string HardwarePath() { return DefaultCatalogDir() + "/hardware.json"; }
std::string CalibrationPath() { return DefaultCatalogDir() + "/calibration.json"; }

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

class AdvisorCatalogFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("outpost_advisor_catalog_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const json& j) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << j.dump(1);
    return path;
  }

  // The committed hardware.json with `edit` applied; the error LoadHardwareCatalog gives.
  std::string HardwareError(const std::function<void(json&)>& edit) {
    json j = ReadJson(HardwarePath());
    edit(j);
    Expected<HardwareCatalog> cat = LoadHardwareCatalog(Write("hardware.json", j));
    EXPECT_FALSE(cat.ok());
    return cat.message();
  }

  std::string CalibrationError(const std::function<void(json&)>& edit) {
    Expected<HardwareCatalog> cat = LoadHardwareCatalog(HardwarePath());
    EXPECT_TRUE(cat.ok()) << cat.message();
    json j = ReadJson(CalibrationPath());
    edit(j);
    Expected<CalibrationSet> set = LoadCalibration(Write("calibration.json", j), *cat);
    EXPECT_FALSE(set.ok());
    return set.message();
  }

  static json& Target(json& j, const std::string& id) {
    for (json& t : j["targets"])
      if (t["id"] == id) return t;
    throw std::runtime_error("no target " + id);
  }

  fs::path dir_;
};

TEST(AdvisorCatalog, CommittedFilesLoad) {
  Expected<HardwareCatalog> cat = LoadHardwareCatalog(HardwarePath());
  ASSERT_TRUE(cat.ok()) << cat.message();
  EXPECT_EQ(cat->targets.size(), 13u);
  EXPECT_GT(cat->sources.size(), 20u);

  Expected<const Target*> rpi4 = cat->FindTarget("rpi4-4gb");
  ASSERT_TRUE(rpi4.ok());
  EXPECT_EQ((*rpi4)->kind, "sbc");
  Expected<const Engine*> cpu = (*rpi4)->FindEngine("cpu");
  ASSERT_TRUE(cpu.ok());
  ASSERT_TRUE((*cpu)->sustained.measured_fp32.has_value());
  // 18.8 GFLOPS in ops/s; the unknown peak stays unknown rather than becoming zero.
  EXPECT_DOUBLE_EQ(*(*cpu)->sustained.measured_fp32->si(), 18.8e9);
  EXPECT_FALSE((*cpu)->peak_fp32.known());
  EXPECT_FALSE((*cpu)->peak_fp32.si().has_value());
  EXPECT_FALSE((*cpu)->peak_fp32.note.empty());
  EXPECT_TRUE((*cpu)->Supports(Precision::kInt8));
  EXPECT_FALSE((*cpu)->Supports(Precision::kFp16));
  EXPECT_DOUBLE_EQ(*(*rpi4)->memory.at("ram_bytes").si(), 4294967296.0);

  Expected<const Target*> coral = cat->FindTarget("coral-usb");
  ASSERT_TRUE(coral.ok());
  EXPECT_EQ((*coral)->host_target, "rpi4-4gb");
  EXPECT_FALSE((*coral)->cpu.has_value());
  EXPECT_DOUBLE_EQ(*(*coral)->engines[0].peak_int8.si(), 4e12);

  Expected<const Target*> m4 = cat->FindTarget("stm32l4r5-nucleo");
  ASSERT_TRUE(m4.ok());
  EXPECT_EQ((*m4)->kind, "mcu");
  EXPECT_NEAR(*(*m4)->power.at("active_mw").si(), 0.0754, 1e-12);  // mW read as W
  EXPECT_DOUBLE_EQ(*(*m4)->cpu->clock_mhz.si(), 120e6);

  Expected<const Target*> host = cat->FindTarget("host");
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE((*host)->measured_on_host);
  EXPECT_TRUE((*host)->engines[0].peak_fp32.measured_later);

  Expected<CalibrationSet> set = LoadCalibration(CalibrationPath(), *cat);
  ASSERT_TRUE(set.ok()) << set.message();
  EXPECT_EQ(set->points.size(), 56u);
  int latency = 0, amortized = 0;
  for (const CalibrationPoint& p : set->points) (p.is_latency() ? latency : amortized)++;
  EXPECT_EQ(amortized, 3);  // the Xavier NX throughput points
  const auto xnx = std::find_if(set->points.begin(), set->points.end(),
                                [](const CalibrationPoint& p) { return p.id == "jetson-xnx-resnet-50"; });
  ASSERT_NE(xnx, set->points.end());
  EXPECT_FALSE(xnx->batch.has_value());
  EXPECT_EQ(xnx->batch_note, "GPU batch 4 + each DLA batch 2");
  const auto v1 = std::find_if(set->points.begin(), set->points.end(),
                               [](const CalibrationPoint& p) { return p.id == "ncnn-rpi4-mobilenet-t4"; });
  ASSERT_NE(v1, set->points.end());
  EXPECT_EQ(v1->precision, Precision::kFp32);
  EXPECT_EQ(v1->threads, 4);
  EXPECT_DOUBLE_EQ(v1->latency_ms, 61.17);
  EXPECT_DOUBLE_EQ(*v1->macs.si(), 575e6);
  ASSERT_TRUE(v1->input_shape.has_value());
  EXPECT_EQ(*v1->input_shape, (std::vector<int>{224, 224, 3}));
}

TEST(AdvisorCatalog, LookupsNameWhatExists) {
  Expected<HardwareCatalog> cat = LoadHardwareCatalog(HardwarePath());
  ASSERT_TRUE(cat.ok()) << cat.message();
  Expected<const Target*> none = cat->FindTarget("rpi6");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("unknown target 'rpi6'"), std::string::npos) << none.message();
  EXPECT_NE(none.message().find("rpi4-4gb"), std::string::npos) << none.message();
  Expected<const Engine*> gpu = (*cat->FindTarget("rpi4-4gb"))->FindEngine("gpu");
  ASSERT_FALSE(gpu.ok());
  EXPECT_EQ(gpu.message(), "target 'rpi4-4gb' has no gpu engine (it has: cpu)");
  EXPECT_FALSE(ParsePrecision("bf16").ok());
  EXPECT_EQ(*ParsePrecision("int16"), Precision::kInt16);
}

TEST(AdvisorCatalog, MissingFileIsRefused) {
  Expected<HardwareCatalog> cat = LoadHardwareCatalog("/nonexistent/hardware.json");
  ASSERT_FALSE(cat.ok());
  EXPECT_EQ(cat.message(), "cannot read /nonexistent/hardware.json");
}

TEST(AdvisorCatalog, EnvironmentOverridesTheCatalogDir) {
  const char* old = std::getenv("OUTPOST_ADVISOR_CATALOG");
  const std::string saved = old ? old : "";
  const std::string built_in = DefaultCatalogDir();
  ::setenv("OUTPOST_ADVISOR_CATALOG", "/somewhere/else", 1);
  EXPECT_EQ(DefaultCatalogDir(), "/somewhere/else");
  if (old) {
    ::setenv("OUTPOST_ADVISOR_CATALOG", saved.c_str(), 1);
  } else {
    ::unsetenv("OUTPOST_ADVISOR_CATALOG");
  }
  if (!old) {
    EXPECT_TRUE(fs::exists(built_in + "/hardware.json")) << built_in;
  }
}

TEST_F(AdvisorCatalogFiles, UnknownFieldIsRefused) {
  const std::string e = HardwareError([](json& j) { Target(j, "rpi4-4gb")["engines"][0]["peak_int4"] = 1; });
  EXPECT_NE(e.find("hardware.json: targets[rpi4-4gb].engines[0]: unknown field 'peak_int4'"), std::string::npos) << e;
}

TEST_F(AdvisorCatalogFiles, MissingFigureIsRefused) {
  const std::string e = HardwareError([](json& j) { Target(j, "rpi4-4gb")["engines"][0].erase("peak_fp32"); });
  EXPECT_NE(e.find("targets[rpi4-4gb].engines[0]: 'peak_fp32' is required"), std::string::npos) << e;
  const std::string p = HardwareError([](json& j) { Target(j, "esp32-s3")["power"].erase("sleep_mw"); });
  EXPECT_NE(p.find("targets[esp32-s3].power: 'sleep_mw' is required"), std::string::npos) << p;
}

TEST_F(AdvisorCatalogFiles, WrongUnitIsRefused) {
  const std::string e = HardwareError([](json& j) { Target(j, "rpi4-4gb")["memory"]["ram_bytes"]["unit"] = "GB"; });
  EXPECT_NE(e.find("targets[rpi4-4gb].memory.ram_bytes: 'unit' 'GB' is not a unit of 'ram_bytes' (expected B)"),
            std::string::npos) << e;
  const std::string r = HardwareError([](json& j) {
    Target(j, "rpi4-4gb")["engines"][0]["sustained"]["measured_fp32"]["unit"] = "GOPS";
  });
  EXPECT_NE(r.find("expected TFLOPS/GFLOPS"), std::string::npos) << r;
}

TEST_F(AdvisorCatalogFiles, UnsourcedOrUnexplainedFiguresAreRefused) {
  const std::string src = HardwareError([](json& j) { Target(j, "rpi4-4gb")["cost"]["usd"]["source"] = "my-guess"; });
  EXPECT_NE(src.find("cost.usd: 'source' names unknown source 'my-guess'"), std::string::npos) << src;
  const std::string note = HardwareError([](json& j) {
    json& fig = Target(j, "rpi4-4gb")["power"]["typical_w"];
    fig.erase("note");
  });
  EXPECT_NE(note.find("power.typical_w: 'note' is required"), std::string::npos) << note;
  const std::string later = HardwareError([](json& j) { Target(j, "host")["engines"][0]["peak_fp32"]["value"] = 100; });
  EXPECT_NE(later.find("must stay null until a measured_later figure is measured"), std::string::npos) << later;
  const std::string bare = HardwareError([](json& j) { Target(j, "rpi4-4gb")["memory"]["ram_bytes"] = 4294967296; });
  EXPECT_NE(bare.find("memory.ram_bytes: expected a JSON object"), std::string::npos) << bare;
}

TEST_F(AdvisorCatalogFiles, OutOfRangeAndBadReferencesAreRefused) {
  const std::string factor = HardwareError([](json& j) {
    Target(j, "jetson-orin-nano-8gb")["engines"][0]["sustained"]["factor"]["value"] = 1.5;
  });
  EXPECT_NE(factor.find("a factor must be in (0, 1]"), std::string::npos) << factor;
  const std::string host = HardwareError([](json& j) { Target(j, "coral-usb")["host_target"] = "rpi9"; });
  EXPECT_NE(host.find("targets[coral-usb]: 'host_target' names unknown target 'rpi9'"), std::string::npos) << host;
  const std::string dup = HardwareError([](json& j) { Target(j, "rpi5-8gb")["id"] = "rpi4-4gb"; });
  EXPECT_NE(dup.find("targets[rpi4-4gb]: duplicate id"), std::string::npos) << dup;
  const std::string prec = HardwareError([](json& j) { Target(j, "rpi4-4gb")["engines"][0]["precisions"][0] = "bf16"; });
  EXPECT_NE(prec.find("unknown precision 'bf16'"), std::string::npos) << prec;
  const std::string fmt = HardwareError([](json& j) { j["format_version"] = 2; });
  EXPECT_NE(fmt.find("'format_version' must be 1"), std::string::npos) << fmt;
  const std::string reason = HardwareError([](json& j) { Target(j, "rpi4-4gb")["engines"][0]["sustained"].erase("reason"); });
  EXPECT_NE(reason.find("sustained: 'reason' is required"), std::string::npos) << reason;
}

TEST_F(AdvisorCatalogFiles, CalibrationPointsAreCheckedAgainstTheCatalog) {
  const std::string target = CalibrationError([](json& j) { j["points"][0]["target"] = "rpi6"; });
  EXPECT_NE(target.find("calibration.json: points[ncnn-rpi4-squeezenet-t4]: 'target' unknown target 'rpi6'"),
            std::string::npos) << target;
  const std::string engine = CalibrationError([](json& j) { j["points"][0]["engine"] = "gpu"; });
  EXPECT_NE(engine.find("has no gpu engine"), std::string::npos) << engine;
  const std::string latency = CalibrationError([](json& j) { j["points"][1]["latency_ms"] = 0; });
  EXPECT_NE(latency.find("'latency_ms' must be positive"), std::string::npos) << latency;
  const std::string macs = CalibrationError([](json& j) { j["points"][2]["macs"]["unit"] = "FLOPs"; });
  EXPECT_NE(macs.find("macs: 'unit' 'FLOPs' is not a unit of 'macs'"), std::string::npos) << macs;
  const std::string missing = CalibrationError([](json& j) { j["points"][3].erase("params"); });
  EXPECT_NE(missing.find("'params' is required"), std::string::npos) << missing;
  const std::string unknown = CalibrationError([](json& j) { j["points"][3]["latency_us"] = 5; });
  EXPECT_NE(unknown.find("unknown field 'latency_us'"), std::string::npos) << unknown;
  const std::string kind = CalibrationError([](json& j) { j["points"][3]["kind"] = "throughput"; });
  EXPECT_NE(kind.find("'throughput' is not a point kind"), std::string::npos) << kind;
  const std::string shape = CalibrationError([](json& j) {
    j["points"][3]["input_shape"] = nullptr;
    j["points"][3]["input_shape_note"] = nullptr;
  });
  EXPECT_NE(shape.find("'input_shape_note' is required when 'input_shape' is null"), std::string::npos) << shape;
  const std::string prec = CalibrationError([](json& j) { j["points"][3]["precision"] = "int4"; });
  EXPECT_NE(prec.find("unknown precision 'int4'"), std::string::npos) << prec;
  const std::string batch = CalibrationError([](json& j) { j["points"][3]["batch"] = "a few"; });
  EXPECT_NE(batch.find("'batch' must be a number for a latency point"), std::string::npos) << batch;
  const std::string dup = CalibrationError([](json& j) { j["points"][1]["id"] = j["points"][0]["id"]; });
  EXPECT_NE(dup.find("duplicate id"), std::string::npos) << dup;
}

}  // namespace
}  // namespace outpost::advisor
