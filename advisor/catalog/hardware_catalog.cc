// Strict reading of hardware.json and calibration.json (docs/advisor-catalog.md). The field
// and unit rules are the same as advisor/catalog/check_catalog.py, which checks the files
// without a build; a rule added here belongs there too.
#include "advisor/catalog/hardware_catalog.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "common/json/strict_json.h"

#ifndef OUTPOST_ADVISOR_CATALOG_DIR
#error "OUTPOST_ADVISOR_CATALOG_DIR must be defined by the build (advisor/CMakeLists.txt)"
#endif

namespace outpost::advisor {
namespace {

using nlohmann::json;

// Base-unit scale of every unit the catalog uses.
const std::map<std::string, double, std::less<>>& UnitScales() {
  static const std::map<std::string, double, std::less<>> scales = {
      {"count", 1},   {"MHz", 1e6},    {"TOPS", 1e12}, {"GOPS", 1e9},  {"TFLOPS", 1e12},
      {"GFLOPS", 1e9}, {"ratio", 1},   {"B", 1},       {"GB/s", 1e9},  {"W", 1},
      {"mW", 1e-3},   {"USD", 1},      {"degC", 1},    {"MACs", 1},    {"params", 1},
      {"KB", 1024},
  };
  return scales;
}

// The units each figure field allows; fields ending in "_bytes" are in B.
std::vector<std::string_view> AllowedUnits(std::string_view field) {
  static const std::map<std::string_view, std::vector<std::string_view>> units = {
      {"cores", {"count"}},
      {"clock_mhz", {"MHz"}},
      {"peak_int8", {"TOPS", "GOPS"}},
      {"peak_int8_dense", {"TOPS", "GOPS"}},
      {"ai_peak_int8", {"TOPS", "GOPS"}},
      {"peak_fp16", {"TOPS", "TFLOPS", "GFLOPS"}},
      {"peak_fp32", {"TFLOPS", "GFLOPS"}},
      {"derated", {"TOPS", "GOPS"}},
      {"measured_int8", {"TOPS", "GOPS"}},
      {"measured_fp32", {"TFLOPS", "GFLOPS"}},
      {"measured_fp32_depthwise_heavy", {"TFLOPS", "GFLOPS"}},
      {"factor", {"ratio"}},
      {"bandwidth", {"GB/s"}},
      {"idle_w", {"W"}},
      {"typical_w", {"W"}},
      {"peak_w", {"W"}},
      {"supply_w", {"W"}},
      {"min_mode_w", {"W"}},
      {"power_w", {"W"}},
      {"active_mw", {"mW"}},
      {"sleep_mw", {"mW"}},
      {"light_sleep_mw", {"mW"}},
      {"usd", {"USD"}},
      {"system_usd", {"USD"}},
      {"throttle_c", {"degC"}},
      {"throttle_max_c", {"degC"}},
      {"junction_max_c", {"degC"}},
      {"macs", {"MACs"}},
      {"params", {"params"}},
      {"model_size", {"KB", "B"}},
  };
  if (field.size() > 6 && field.substr(field.size() - 6) == "_bytes") return {"B"};
  const auto it = units.find(field);
  return it == units.end() ? std::vector<std::string_view>{} : it->second;
}

std::string JoinViews(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::string_view s : items) out += (out.empty() ? "" : "/") + std::string(s);
  return out;
}

bool WellFormedId(const std::string& id) {
  if (id.empty()) return false;
  if (!(std::islower(static_cast<unsigned char>(id[0])) || std::isdigit(static_cast<unsigned char>(id[0])))) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
}

// A string field that the format allows to be null ("date": null): null and absent give "".
std::string NullableString(const JsonFields& f, const json& object, const char* key, bool required) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (required) f.Fail(key, "is required (null when unknown)");
    return {};
  }
  if (it->is_null()) return {};
  if (!it->is_string()) f.Fail(key, "must be a string or null, got " + ShowJson(*it));
  return it->get<std::string>();
}

class Reader {
 public:
  explicit Reader(const std::map<std::string, Source>& sources) : sources_(sources) {}

  void CheckSource(const JsonFields& f, const char* key, const std::string& id) const {
    if (!id.empty() && !sources_.count(id)) f.Fail(key, "names unknown source '" + id + "'");
  }

  Figure ReadFigure(const json& j, const std::string& where, std::string_view field) const {
    const JsonFields f(j, where, {"value", "unit", "source", "note", "derived", "measured_later"});
    Figure fig;
    const json& v = j.contains("value") ? j.at("value") : throw Error(where + ": 'value' is required (null when unknown)");
    if (!v.is_null()) {
      if (!v.is_number()) f.Fail("value", "must be a number or null, got " + ShowJson(v));
      fig.value = v.get<double>();
      if (!std::isfinite(*fig.value)) f.Fail("value", "must be finite");
    }
    fig.unit = f.String("unit");
    const std::vector<std::string_view> allowed = AllowedUnits(field);
    if (allowed.empty()) f.FailObject("no unit rule for field '" + std::string(field) + "'");
    if (std::find(allowed.begin(), allowed.end(), fig.unit) == allowed.end())
      f.Fail("unit", "'" + fig.unit + "' is not a unit of '" + std::string(field) + "' (expected " + JoinViews(allowed) + ")");
    fig.source = NullableString(f, j, "source", true);
    CheckSource(f, "source", fig.source);
    fig.note = NullableString(f, j, "note", false);
    fig.derived = NullableString(f, j, "derived", false);
    if (j.contains("measured_later")) {
      if (!j.at("measured_later").is_boolean()) f.Fail("measured_later", "must be true or false");
      fig.measured_later = j.at("measured_later").get<bool>();
    }
    const bool has_note = fig.note.find_first_not_of(" \t") != std::string::npos;
    if (fig.source.empty() && !has_note) f.Fail("note", "is required when 'source' is null (say where the figure comes from)");
    if (!fig.value && !has_note) f.Fail("note", "is required when 'value' is null (say what is missing)");
    if (!fig.derived.empty() && fig.source.empty()) f.Fail("source", "must name where a derived figure's inputs come from");
    if (fig.measured_later && fig.value) f.Fail("value", "must stay null until a measured_later figure is measured");
    if (fig.value && field == "factor" && !(*fig.value > 0 && *fig.value <= 1)) f.Fail("value", "a factor must be in (0, 1]");
    if (fig.value && *fig.value < 0) f.Fail("value", "must not be negative");
    return fig;
  }

  Figure RequiredFigure(const JsonFields& f, const json& object, const char* key) const {
    if (!object.contains(key)) f.Fail(key, "is required (a figure with a null value and a note when unknown)");
    return ReadFigure(object.at(key), f.where() + "." + key, key);
  }

  std::optional<Figure> OptionalFigure(const JsonFields& f, const json& object, const char* key) const {
    if (!object.contains(key)) return std::nullopt;
    return ReadFigure(object.at(key), f.where() + "." + key, key);
  }

  // An object whose keys are all figure fields from `allowed`, `required` among them.
  std::map<std::string, Figure> FigureTable(const json& object, const std::string& where,
                                            std::initializer_list<std::string_view> allowed,
                                            const std::vector<const char*>& required,
                                            std::initializer_list<std::string_view> other = {}) const {
    std::vector<std::string_view> keys(allowed);
    keys.insert(keys.end(), other.begin(), other.end());
    // JsonFields wants an initializer_list; check the keys here instead, in the same words.
    if (!object.is_object()) throw Error(where + ": expected a JSON object, got " + ShowJson(object));
    for (const auto& [key, value] : object.items()) {
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
      std::string list;
      for (std::string_view a : keys) list += (list.empty() ? "" : ", ") + std::string(a);
      throw Error(where + ": unknown field '" + key + "' (allowed: " + list + ")");
    }
    std::map<std::string, Figure> out;
    for (const char* key : required)
      if (!object.contains(key)) throw Error(where + ": '" + key + "' is required (a figure with a null value and a note when unknown)");
    for (std::string_view key : allowed) {
      const std::string k(key);
      if (object.contains(k)) out[k] = ReadFigure(object.at(k), where + "." + k, key);
    }
    return out;
  }

 private:
  const std::map<std::string, Source>& sources_;
};

std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw Error("cannot read " + path);
  return s.str();
}

void CheckHeader(const JsonFields& f, const char* format) {
  if (f.String("format") != format) f.Fail("format", std::string("must be '") + format + "'");
  if (f.Int("format_version") != 1) f.Fail("format_version", "must be 1 (the only version this build reads)");
  if (const json* c = f.OptObject("conventions")) {
    for (const auto& [k, v] : c->items())
      if (!v.is_string()) f.Fail("conventions", "entries must be strings ('" + k + "' is not)");
  }
}

std::map<std::string, Source> ReadSources(const json& j, const std::string& where) {
  if (!j.is_object() || j.empty()) throw Error(where + ": must be a non-empty object");
  static const std::set<std::string> kinds = {"datasheet", "vendor-page", "announcement", "benchmark",
                                              "repository", "article", "aggregator"};
  std::map<std::string, Source> out;
  for (const auto& [id, s] : j.items()) {
    const std::string w = where + "." + id;
    if (!WellFormedId(id)) throw Error(w + ": a source id is lower-case letters, digits and '-'");
    const JsonFields f(s, w, {"url", "title", "kind", "accessed", "note"});
    Source src;
    src.url = f.String("url");
    if (src.url.rfind("http://", 0) != 0 && src.url.rfind("https://", 0) != 0) f.Fail("url", "must be an http(s) URL");
    src.title = f.String("title");
    if (src.title.empty()) f.Fail("title", "must not be empty");
    src.kind = f.String("kind");
    if (!kinds.count(src.kind)) f.Fail("kind", "'" + src.kind + "' is not a source kind (datasheet, vendor-page, announcement, benchmark, repository, article, aggregator)");
    src.accessed = f.String("accessed");
    src.note = f.OptString("note").value_or("");
    out.emplace(id, std::move(src));
  }
  return out;
}

Engine ReadEngine(const Reader& r, const json& j, const std::string& where) {
  const JsonFields f(j, where, {"type", "name", "peak_int8", "peak_fp32", "peak_fp16", "peak_int8_dense", "power_w",
                                "sustained", "precisions", "runtimes", "runtimes_source"});
  static const std::set<std::string> types = {"cpu", "gpu", "npu", "tpu", "vpu", "dsp"};
  Engine e;
  e.type = f.String("type");
  if (!types.count(e.type)) f.Fail("type", "'" + e.type + "' is not an engine type (cpu, gpu, npu, tpu, vpu, dsp)");
  e.name = f.String("name");
  e.peak_int8 = r.RequiredFigure(f, j, "peak_int8");
  e.peak_fp32 = r.RequiredFigure(f, j, "peak_fp32");
  e.peak_fp16 = r.OptionalFigure(f, j, "peak_fp16");
  e.peak_int8_dense = r.OptionalFigure(f, j, "peak_int8_dense");
  e.power_w = r.OptionalFigure(f, j, "power_w");

  const json* sj = f.OptObject("sustained");
  if (!sj) f.Fail("sustained", "is required (a factor or a measured rate, with a reason)");
  const JsonFields s(*sj, where + ".sustained",
                     {"factor", "derated", "measured_int8", "measured_fp32", "measured_fp32_depthwise_heavy", "reason"});
  // "factor": null is how the file says "not calibrated yet"; a figure otherwise.
  if (sj->contains("factor") && !sj->at("factor").is_null()) e.sustained.factor = r.OptionalFigure(s, *sj, "factor");
  e.sustained.derated = r.OptionalFigure(s, *sj, "derated");
  e.sustained.measured_int8 = r.OptionalFigure(s, *sj, "measured_int8");
  e.sustained.measured_fp32 = r.OptionalFigure(s, *sj, "measured_fp32");
  e.sustained.measured_fp32_depthwise_heavy = r.OptionalFigure(s, *sj, "measured_fp32_depthwise_heavy");
  e.sustained.reason = s.String("reason");
  if (e.sustained.reason.find_first_not_of(" \t") == std::string::npos) s.Fail("reason", "must say why");

  for (const std::string& p : f.Strings("precisions")) {
    Expected<Precision> parsed = ParsePrecision(p);
    if (!parsed) f.Fail("precisions", parsed.message());
    e.precisions.push_back(*parsed);
  }
  if (e.precisions.empty()) f.Fail("precisions", "must name at least one precision");
  e.runtimes = f.Strings("runtimes");
  e.runtimes_source = f.OptString("runtimes_source").value_or("");
  r.CheckSource(f, "runtimes_source", e.runtimes_source);
  return e;
}

Target ReadTarget(const Reader& r, const json& j, const std::string& where_in) {
  std::string where = where_in;
  if (j.is_object() && j.contains("id") && j.at("id").is_string()) where = "targets[" + j.at("id").get<std::string>() + "]";
  const JsonFields f(j, where, {"id", "name", "kind", "host_target", "measured_on_host", "cpu", "ai_peak_int8", "engines",
                                "notes", "memory", "power", "cost", "thermal"});
  static const std::set<std::string> kinds = {"sbc", "accelerator", "mcu", "server"};
  Target t;
  t.id = f.String("id");
  if (!WellFormedId(t.id)) f.Fail("id", "must be lower-case letters, digits and '-'");
  t.name = f.String("name");
  t.kind = f.String("kind");
  if (!kinds.count(t.kind)) f.Fail("kind", "'" + t.kind + "' is not a target kind (sbc, accelerator, mcu, server)");
  t.host_target = f.OptString("host_target").value_or("");
  if (j.contains("measured_on_host")) {
    if (!j.at("measured_on_host").is_boolean()) f.Fail("measured_on_host", "must be true or false");
    t.measured_on_host = j.at("measured_on_host").get<bool>();
  }
  if (!j.contains("cpu")) f.Fail("cpu", "is required (null for accelerators, which use their host's)");
  if (!j.at("cpu").is_null()) {
    const json& cj = j.at("cpu");
    const JsonFields c(cj, where + ".cpu", {"isa", "core", "cores", "clock_mhz"});
    Cpu cpu;
    cpu.isa = c.String("isa");
    cpu.core = c.String("core");
    cpu.cores = r.RequiredFigure(c, cj, "cores");
    cpu.clock_mhz = r.RequiredFigure(c, cj, "clock_mhz");
    t.cpu = std::move(cpu);
  }
  t.ai_peak_int8 = r.OptionalFigure(f, j, "ai_peak_int8");
  const json& engines = f.Array("engines");
  if (engines.empty()) f.Fail("engines", "must list at least one engine");
  for (size_t i = 0; i < engines.size(); ++i)
    t.engines.push_back(ReadEngine(r, engines[i], where + ".engines[" + std::to_string(i) + "]"));
  if (f.has("notes")) t.notes = f.Strings("notes");

  if (!f.has("memory")) f.Fail("memory", "is required");
  t.memory = r.FigureTable(j.at("memory"), where + ".memory",
                           {"ram_bytes", "storage_bytes", "flash_onchip_bytes", "flash_external_typical_bytes",
                            "on_chip_sram_bytes", "rom_bytes", "bandwidth"},
                           {"ram_bytes"});
  if (!f.has("power")) f.Fail("power", "is required");
  const std::vector<const char*> power_needed =
      t.kind == "mcu" ? std::vector<const char*>{"clock_mhz", "active_mw", "sleep_mw"}
                      : std::vector<const char*>{"idle_w", "typical_w", "peak_w"};
  t.power = r.FigureTable(j.at("power"), where + ".power",
                          {"idle_w", "typical_w", "peak_w", "supply_w", "min_mode_w", "clock_mhz", "active_mw",
                           "sleep_mw", "light_sleep_mw"},
                          power_needed);

  const json* cj = f.OptObject("cost");
  if (!cj) f.Fail("cost", "is required");
  const JsonFields c(*cj, where + ".cost", {"usd", "system_usd", "date", "seller"});
  t.cost_usd = r.RequiredFigure(c, *cj, "usd");
  t.cost_system_usd = r.OptionalFigure(c, *cj, "system_usd");
  t.cost_date = NullableString(c, *cj, "date", true);
  t.cost_seller = NullableString(c, *cj, "seller", true);

  if (!f.has("thermal")) f.Fail("thermal", "is required");
  const json& th = j.at("thermal");
  t.thermal = r.FigureTable(th, where + ".thermal", {"throttle_c", "throttle_max_c", "junction_max_c"}, {"throttle_c"},
                            {"cooling", "notes"});
  const JsonFields tf(th, where + ".thermal", {"throttle_c", "throttle_max_c", "junction_max_c", "cooling", "notes"});
  t.cooling = tf.String("cooling");
  t.thermal_notes = tf.Strings("notes");
  return t;
}

HardwareCatalog ReadCatalog(const std::string& path) {
  const std::string text = ReadTextFile(path);
  const json root = ParseJsonObject(text, path);
  const JsonFields f(root, path, {"format", "format_version", "generated", "conventions", "sources", "targets"});
  CheckHeader(f, "outpost-hardware-catalog");
  HardwareCatalog cat;
  cat.path = path;
  cat.generated = f.OptString("generated").value_or("");
  if (!f.has("sources")) f.Fail("sources", "is required");
  cat.sources = ReadSources(root.at("sources"), path + ": sources");
  const Reader r(cat.sources);
  const json& targets = f.Array("targets");
  if (targets.empty()) f.Fail("targets", "must list at least one target");
  std::set<std::string> ids;
  for (size_t i = 0; i < targets.size(); ++i) {
    Target t = ReadTarget(r, targets[i], "targets[" + std::to_string(i) + "]");
    if (!ids.insert(t.id).second) throw Error("targets[" + t.id + "]: duplicate id");
    cat.targets.push_back(std::move(t));
  }
  for (const Target& t : cat.targets)
    if (!t.host_target.empty() && !ids.count(t.host_target))
      throw Error("targets[" + t.id + "]: 'host_target' names unknown target '" + t.host_target + "'");
  return cat;
}

CalibrationPoint ReadPoint(const Reader& r, const HardwareCatalog& cat, const json& j, const std::string& where_in) {
  std::string where = where_in;
  if (j.is_object() && j.contains("id") && j.at("id").is_string()) where = "points[" + j.at("id").get<std::string>() + "]";
  const JsonFields f(j, where,
                     {"id", "target", "engine", "model", "model_variant", "input_shape", "input_shape_note",
                      "input_shape_source", "input_description", "precision", "precision_note", "runtime",
                      "runtime_version", "threads", "batch", "latency_ms", "throughput_ips", "statistic", "kind",
                      "conditions", "macs", "params", "model_size", "source", "note"});
  CalibrationPoint p;
  p.id = f.String("id");
  if (!WellFormedId(p.id)) f.Fail("id", "must be lower-case letters, digits and '-'");
  p.target = f.String("target");
  Expected<const Target*> target = cat.FindTarget(p.target);
  if (!target) f.Fail("target", target.message());
  p.engine = f.String("engine");
  Expected<const Engine*> engine = (*target)->FindEngine(p.engine);
  if (!engine) f.Fail("engine", engine.message());
  p.model = f.String("model");
  if (p.model.empty()) f.Fail("model", "must not be empty");
  p.model_variant = NullableString(f, j, "model_variant", false);

  if (!j.contains("input_shape")) f.Fail("input_shape", "is required (null with input_shape_note when unpublished)");
  p.input_shape_note = NullableString(f, j, "input_shape_note", false);
  if (!j.at("input_shape").is_null()) {
    const json& s = j.at("input_shape");
    if (!s.is_array() || s.empty()) f.Fail("input_shape", "must be a list of positive integers");
    std::vector<int> shape;
    for (const json& d : s) {
      if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > 1000000)
        f.Fail("input_shape", "must be a list of positive integers, got " + ShowJson(s));
      shape.push_back(static_cast<int>(d.get<int64_t>()));
    }
    p.input_shape = std::move(shape);
  } else if (p.input_shape_note.empty()) {
    f.Fail("input_shape_note", "is required when 'input_shape' is null");
  }
  p.input_shape_source = NullableString(f, j, "input_shape_source", false);
  r.CheckSource(f, "input_shape_source", p.input_shape_source);
  p.input_description = NullableString(f, j, "input_description", false);

  if (!j.contains("precision")) f.Fail("precision", "is required (null with precision_note when unpublished)");
  p.precision_note = NullableString(f, j, "precision_note", false);
  if (!j.at("precision").is_null()) {
    Expected<Precision> prec = ParsePrecision(f.String("precision"));
    if (!prec) f.Fail("precision", prec.message());
    p.precision = *prec;
  } else if (p.precision_note.empty()) {
    f.Fail("precision_note", "is required when 'precision' is null");
  }
  p.runtime = f.String("runtime");
  p.runtime_version = NullableString(f, j, "runtime_version", false);
  for (const char* key : {"threads", "batch"}) {
    if (!j.contains(key)) f.Fail(key, "is required (null when unpublished)");
    if (j.at(key).is_null()) continue;
    // Throughput points batch differently per engine and say so in words.
    if (std::string_view(key) == "batch" && j.at(key).is_string()) {
      p.batch_note = j.at(key).get<std::string>();
      continue;
    }
    const int v = static_cast<int>(f.Int(key, 1, 4096));
    (std::string_view(key) == "threads" ? p.threads : p.batch) = v;
  }
  p.latency_ms = f.Number("latency_ms");
  if (!(p.latency_ms > 0)) f.Fail("latency_ms", "must be positive");
  if (j.contains("throughput_ips")) p.throughput_ips = f.Number("throughput_ips", 0);
  p.statistic = f.String("statistic");
  p.kind = f.String("kind");
  if (p.kind != "latency" && p.kind != "amortized_throughput")
    f.Fail("kind", "'" + p.kind + "' is not a point kind (latency, amortized_throughput)");
  if (p.kind == "latency" && !p.batch_note.empty())
    f.Fail("batch", "must be a number for a latency point (a description is for throughput points only)");
  p.conditions = NullableString(f, j, "conditions", false);
  p.macs = r.RequiredFigure(f, j, "macs");
  p.params = r.RequiredFigure(f, j, "params");
  p.model_size = r.OptionalFigure(f, j, "model_size");
  p.source = f.String("source");
  if (p.source.empty()) f.Fail("source", "must name a source");
  r.CheckSource(f, "source", p.source);
  p.note = NullableString(f, j, "note", false);
  return p;
}

CalibrationSet ReadCalibration(const std::string& path, const HardwareCatalog& cat) {
  const std::string text = ReadTextFile(path);
  const json root = ParseJsonObject(text, path);
  const JsonFields f(root, path, {"format", "format_version", "generated", "catalog", "conventions", "points"});
  CheckHeader(f, "outpost-calibration-points");
  CalibrationSet set;
  set.path = path;
  set.generated = f.OptString("generated").value_or("");
  const Reader r(cat.sources);
  const json& points = f.Array("points");
  if (points.empty()) f.Fail("points", "must list at least one point");
  std::set<std::string> ids;
  for (size_t i = 0; i < points.size(); ++i) {
    CalibrationPoint p = ReadPoint(r, cat, points[i], "points[" + std::to_string(i) + "]");
    if (!ids.insert(p.id).second) throw Error("points[" + p.id + "]: duplicate id");
    set.points.push_back(std::move(p));
  }
  return set;
}

std::string FileName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string_view PrecisionName(Precision p) {
  switch (p) {
    case Precision::kInt8: return "int8";
    case Precision::kInt16: return "int16";
    case Precision::kFp16: return "fp16";
    case Precision::kFp32: return "fp32";
  }
  return "?";
}

Expected<Precision> ParsePrecision(std::string_view name) {
  for (Precision p : {Precision::kInt8, Precision::kInt16, Precision::kFp16, Precision::kFp32})
    if (PrecisionName(p) == name) return p;
  return Error("unknown precision '" + std::string(name) + "' (known: int8, int16, fp16, fp32)");
}

std::optional<double> Figure::si() const {
  if (!value) return std::nullopt;
  const auto it = UnitScales().find(unit);
  return it == UnitScales().end() ? *value : *value * it->second;
}

bool Engine::Supports(Precision p) const {
  return std::find(precisions.begin(), precisions.end(), p) != precisions.end();
}

Expected<const Engine*> Target::FindEngine(std::string_view type) const {
  std::string known;
  for (const Engine& e : engines) {
    if (e.type == type) return &e;
    known += (known.empty() ? "" : ", ") + e.type;
  }
  return Error("target '" + id + "' has no " + std::string(type) + " engine (it has: " + known + ")");
}

Expected<const Target*> HardwareCatalog::FindTarget(std::string_view id) const {
  std::string known;
  for (const Target& t : targets) {
    if (t.id == id) return &t;
    known += (known.empty() ? "" : ", ") + t.id;
  }
  return Error("unknown target '" + std::string(id) + "' (the catalog has: " + known + ")");
}

Expected<HardwareCatalog> LoadHardwareCatalog(const std::string& path) {
  Expected<HardwareCatalog> cat = Capture([&] { return ReadCatalog(path); });
  if (!cat && cat.message().rfind(path, 0) != 0 && cat.message().rfind("cannot read", 0) != 0)
    return Error(FileName(path) + ": " + cat.message());
  return cat;
}

Expected<CalibrationSet> LoadCalibration(const std::string& path, const HardwareCatalog& catalog) {
  Expected<CalibrationSet> set = Capture([&] { return ReadCalibration(path, catalog); });
  if (!set && set.message().rfind(path, 0) != 0 && set.message().rfind("cannot read", 0) != 0)
    return Error(FileName(path) + ": " + set.message());
  return set;
}

std::string DefaultCatalogDir() {
  if (const char* env = std::getenv("OUTPOST_ADVISOR_CATALOG"); env && *env) return env;
  return OUTPOST_ADVISOR_CATALOG_DIR;
}

}  // namespace outpost::advisor
