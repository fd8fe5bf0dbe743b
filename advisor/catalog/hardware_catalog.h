// The Advisor's hardware catalog (advisor/catalog/hardware.json) and calibration points
// (calibration.json), read strictly: docs/advisor-catalog.md is the format.
//
// Strict because the files are hand-edited data that the cost model trusts: an unknown or
// misspelt field, a missing figure, a unit the field does not allow or a figure without its
// source would otherwise be read as "unknown" and silently change a prediction. Every refusal is
// one message naming the file, the object and the field.
//
// Figures keep the value as written together with its unit; si() converts it to base units
// (ops/s, bytes, bytes/s, W, Hz, degC, USD) so that callers never compare GOPS with TOPS.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace outpost::advisor {

enum class Precision { kInt8, kInt16, kFp16, kFp32 };
std::string_view PrecisionName(Precision p);
// "int8", "int16", "fp16", "fp32"; anything else is refused.
Expected<Precision> ParsePrecision(std::string_view name);

// One number of the catalog: {value, unit, source, note?, derived?, measured_later?}.
// A missing value means no public figure was found: unknown, never zero.
struct Figure {
  std::optional<double> value;
  std::string unit;
  std::string source;  // a key of HardwareCatalog::sources, empty when the file says null
  std::string note;
  std::string derived;
  bool measured_later = false;

  bool known() const { return value.has_value(); }
  // The value in base units (TOPS -> ops/s, GB/s -> bytes/s, mW -> W, MHz -> Hz, KB -> bytes);
  // empty when the value is unknown.
  std::optional<double> si() const;
};

struct Source {
  std::string url, title, kind, accessed, note;
};

// How fast an engine runs real networks (docs/advisor-catalog.md, "Peak vs sustained").
struct Sustained {
  std::optional<Figure> factor;  // ratio to the peak; absent or unknown when not calibrated
  std::optional<Figure> derated;
  std::optional<Figure> measured_int8;
  std::optional<Figure> measured_fp32;
  std::optional<Figure> measured_fp32_depthwise_heavy;
  std::string reason;
};

struct Engine {
  std::string type;  // cpu, gpu, npu, tpu, vpu, dsp
  std::string name;
  Figure peak_int8, peak_fp32;
  std::optional<Figure> peak_fp16, peak_int8_dense, power_w;
  Sustained sustained;
  std::vector<Precision> precisions;
  std::vector<std::string> runtimes;
  std::string runtimes_source;

  bool Supports(Precision p) const;
};

struct Cpu {
  std::string isa, core;
  Figure cores, clock_mhz;
};

struct Target {
  std::string id, name;
  std::string kind;         // sbc, accelerator, mcu, server
  std::string host_target;  // accelerators: the catalog id of their host
  bool measured_on_host = false;
  std::optional<Cpu> cpu;
  std::optional<Figure> ai_peak_int8;
  std::vector<Engine> engines;
  std::vector<std::string> notes;
  // Figures by field name: memory (ram_bytes, storage_bytes, ..., bandwidth), power (idle_w,
  // typical_w, peak_w, ... or clock_mhz, active_mw, sleep_mw for MCUs), thermal (throttle_c, ...).
  std::map<std::string, Figure> memory, power, thermal;
  Figure cost_usd;
  std::optional<Figure> cost_system_usd;
  std::string cost_date, cost_seller;
  std::string cooling;
  std::vector<std::string> thermal_notes;

  // The engine of this type, or an error naming the target's engines.
  Expected<const Engine*> FindEngine(std::string_view type) const;
};

struct HardwareCatalog {
  std::string path;  // the file it was read from, for messages
  std::string generated;
  std::map<std::string, Source> sources;
  std::vector<Target> targets;

  // The target with this id, or an error listing the known ids.
  Expected<const Target*> FindTarget(std::string_view id) const;
};

// One published measurement (calibration.json).
struct CalibrationPoint {
  std::string id, target, engine;
  std::string model, model_variant;
  std::optional<std::vector<int>> input_shape;  // [H, W, C]; absent when not published
  std::string input_shape_note, input_shape_source, input_description;
  std::optional<Precision> precision;           // absent when not published (precision_note)
  std::string precision_note;
  std::string runtime, runtime_version;
  std::optional<int> threads, batch;
  std::string batch_note;  // throughput points: how each engine was batched, in words
  double latency_ms = 0;
  std::optional<double> throughput_ips;
  std::string statistic;
  std::string kind;  // "latency" or "amortized_throughput" (not a batch-1 latency)
  std::string conditions;
  Figure macs, params;
  std::optional<Figure> model_size;
  std::string source, note;

  bool is_latency() const { return kind == "latency"; }
};

struct CalibrationSet {
  std::string path;
  std::string generated;
  std::vector<CalibrationPoint> points;
};

// Reads and checks hardware.json.
Expected<HardwareCatalog> LoadHardwareCatalog(const std::string& path);

// Reads and checks calibration.json. Its points refer to the catalog's targets, engines and
// sources (the sources table lives in hardware.json), so the catalog is needed to check them.
Expected<CalibrationSet> LoadCalibration(const std::string& path, const HardwareCatalog& catalog);

// Where the catalog files are: $OUTPOST_ADVISOR_CATALOG when set, else advisor/catalog of the
// source tree this was built from.
std::string DefaultCatalogDir();

}  // namespace outpost::advisor
