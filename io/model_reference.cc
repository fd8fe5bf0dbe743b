// The model's drift reference: building it from reference data, its JSON form, and the
// accumulator that bins live data the same way (io/model_reference.h).
#include "io/model_reference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/json_nesting.h"
#include "io/session.h"

namespace outpost::io {
namespace {

using nlohmann::json;

// Values kept per tensor for choosing its decile edges: enough for deciles to within a
// fraction of a percent, bounded memory for large inputs.
constexpr uint64_t kEdgeSampleValues = 200000;

// 6 significant digits: compact JSON for statistics that are read, not recomputed.
double Round6(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return std::strtod(buf, nullptr);
}

// splitmix64: a fixed, well-mixed hash for choosing which values feed the edges.
uint64_t RefMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

int64_t NumElements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Number of channels and the stride of one channel step (product of the dims after the axis).
int64_t Channels(const InputReference& in) {
  return in.channel_axis < 0 ? 1 : in.shape[static_cast<size_t>(in.channel_axis)];
}
int64_t ChannelInner(const InputReference& in) {
  if (in.channel_axis < 0) return 1;
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(in.channel_axis) + 1; d < in.shape.size(); ++d)
    inner *= in.shape[d];
  return inner;
}

// Image-like inputs (rank 4) have channels along the axis their layout says; anything else is
// treated as one channel.
int ChannelAxis(const std::vector<int64_t>& shape, opm::Layout layout) {
  if (shape.size() != 4) return -1;
  return layout == opm::Layout::NHWC ? 3 : 1;
}

// A classifier output: one axis of two or more classes, every other dimension 1.
bool IsClassVector(const std::vector<int64_t>& shape) {
  int wide = 0;
  for (int64_t d : shape) wide += d > 1;
  return wide == 1 && NumElements(shape) >= 2;
}

// io::ArgMax sorts a copy; this runs per frame in the agent and must not allocate.
size_t TopIndex(std::span<const float> v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

// A float as the shortest decimal that reads back as the same float (at most 9 digits): an
// edge in the JSON is exactly the edge the reference was counted with.
double ExactFloat(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
  return std::strtod(buf, nullptr);
}

// Inner edges for `values` (sorted here): the deciles, which give every bin a tenth of the
// reference, together with the 9 inner edges of 10 equal-width bins over [min, max], which keep
// resolution where a point mass swallows several deciles (the zero background of an image:
// noise added to it would otherwise stay inside one bin). Strictly ascending, at most 18.
std::vector<float> ReferenceEdges(std::vector<float>& values) {
  std::vector<float> edges;
  if (values.empty()) return edges;
  std::sort(values.begin(), values.end());
  const float lo = values.front(), hi = values.back();
  for (int i = 1; i < kReferenceBins; ++i) {
    edges.push_back(values[std::min(values.size() - 1, values.size() * i / kReferenceBins)]);
    if (hi > lo) {
      const double t = static_cast<double>(i) / kReferenceBins;
      edges.push_back(static_cast<float>(lo + (static_cast<double>(hi) - lo) * t));
    }
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  return edges;
}

ValueHistogram HistogramOf(std::vector<float>& values) {
  ValueHistogram h;
  h.edges = ReferenceEdges(values);
  h.counts.assign(h.edges.size() + 1, 0);
  for (float v : values) h.Add(v);
  return h;
}

json HistogramJson(const ValueHistogram& h) {
  json e = json::array();
  for (float v : h.edges) e.push_back(ExactFloat(v));
  return json{{"edges", e}, {"counts", h.counts}};
}

json DoublesJson(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(Round6(x));
  return a;
}

// Parsing helpers: each throws Error with the field's path; ParseModelReference converts.
const json& Field(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key))
    throw Error("model reference: " + where + " has no '" + key + "'");
  return j.at(key);
}

std::vector<uint64_t> Counts(const json& j, const std::string& where) {
  if (!j.is_array()) throw Error("model reference: " + where + " is not an array");
  std::vector<uint64_t> out;
  for (const json& v : j) {
    if (!v.is_number_unsigned()) throw Error("model reference: " + where + " holds a non-count");
    out.push_back(v.get<uint64_t>());
  }
  return out;
}

std::vector<double> Numbers(const json& j, const std::string& where) {
  if (!j.is_array()) throw Error("model reference: " + where + " is not an array");
  std::vector<double> out;
  for (const json& v : j) {
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw Error("model reference: " + where + " holds a non-number");
    out.push_back(v.get<double>());
  }
  return out;
}

ValueHistogram ParseHistogram(const json& j, const std::string& where) {
  ValueHistogram h;
  for (double e : Numbers(Field(j, "edges", where), where + ".edges"))
    h.edges.push_back(static_cast<float>(e));
  h.counts = Counts(Field(j, "counts", where), where + ".counts");
  for (size_t i = 1; i < h.edges.size(); ++i)
    if (!(h.edges[i] > h.edges[i - 1]))
      throw Error("model reference: " + where + ".edges are not ascending");
  if (h.counts.size() != h.edges.size() + 1)
    throw Error("model reference: " + where + " has " + std::to_string(h.counts.size()) +
                " counts for " + std::to_string(h.edges.size()) + " edges (want edges + 1)");
  if (h.total() == 0) throw Error("model reference: " + where + " is empty");
  return h;
}

ModelReference ParseReferenceJson(const json& j) {
  if (!j.is_object()) throw Error("model reference: not a JSON object");
  const json& v = Field(j, "v", "the reference");
  if (!v.is_number_integer() || v.get<int64_t>() != kReferenceVersion)
    throw Error("model reference: version " + v.dump() + ", this build reads version " +
                std::to_string(kReferenceVersion));
  ModelReference r;
  const json& samples = Field(j, "samples", "the reference");
  if (!samples.is_number_unsigned() || samples.get<uint64_t>() == 0)
    throw Error("model reference: 'samples' must be a positive count");
  r.samples = samples.get<uint64_t>();
  const json& inputs = Field(j, "inputs", "the reference");
  const json& outputs = Field(j, "outputs", "the reference");
  if (!inputs.is_array() || !outputs.is_array() || outputs.empty())
    throw Error("model reference: 'inputs' and 'outputs' must be arrays (outputs not empty)");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string where = "inputs[" + std::to_string(i) + "]";
    const json& in = inputs[i];
    InputReference ir;
    const json& name = Field(in, "name", where);
    if (!name.is_string()) throw Error("model reference: " + where + ".name is not a string");
    ir.name = name.get<std::string>();
    for (double d : Numbers(Field(in, "shape", where), where + ".shape")) {
      if (d < 1 || d != std::floor(d) || d > 1e9)
        throw Error("model reference: " + where + ".shape has a bad dimension");
      ir.shape.push_back(static_cast<int64_t>(d));
    }
    if (ir.shape.empty() || ir.shape.size() > 6)
      throw Error("model reference: " + where + ".shape must have 1 to 6 dimensions");
    const json& axis = Field(in, "channel_axis", where);
    if (!axis.is_number_integer() || axis.get<int64_t>() < -1 ||
        axis.get<int64_t>() >= static_cast<int64_t>(ir.shape.size()))
      throw Error("model reference: " + where + ".channel_axis is out of range");
    ir.channel_axis = axis.get<int>();
    ir.mean = Numbers(Field(in, "mean", where), where + ".mean");
    ir.std = Numbers(Field(in, "std", where), where + ".std");
    const size_t channels = static_cast<size_t>(Channels(ir));
    if (ir.mean.size() != channels || ir.std.size() != channels)
      throw Error("model reference: " + where + " needs one mean and one std per channel (" +
                  std::to_string(channels) + ")");
    ir.values = ParseHistogram(Field(in, "values", where), where + ".values");
    r.inputs.push_back(std::move(ir));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string where = "outputs[" + std::to_string(i) + "]";
    const json& out = outputs[i];
    OutputReference o;
    const json& name = Field(out, "name", where);
    if (!name.is_string()) throw Error("model reference: " + where + ".name is not a string");
    o.name = name.get<std::string>();
    const json& kind = Field(out, "kind", where);
    if (kind != "classes" && kind != "values")
      throw Error("model reference: " + where + ".kind must be 'classes' or 'values'");
    o.classes = kind == "classes";
    if (o.classes) {
      o.class_counts = Counts(Field(out, "class_counts", where), where + ".class_counts");
      if (o.class_counts.size() < 2)
        throw Error("model reference: " + where + ".class_counts needs two or more classes");
      o.values = ParseHistogram(Field(out, "top1_score", where), where + ".top1_score");
    } else {
      o.values = ParseHistogram(Field(out, "values", where), where + ".values");
    }
    r.outputs.push_back(std::move(o));
  }
  return r;
}

}  // namespace

size_t ValueHistogram::BinOf(float x) const {
  return static_cast<size_t>(std::lower_bound(edges.begin(), edges.end(), x) - edges.begin());
}

void ValueHistogram::Add(float x) {
  if (std::isfinite(x)) ++counts[BinOf(x)];
}

uint64_t ValueHistogram::total() const {
  uint64_t t = 0;
  for (uint64_t c : counts) t += c;
  return t;
}

std::string ModelReferenceToJson(const ModelReference& ref) {
  json inputs = json::array(), outputs = json::array();
  for (const InputReference& in : ref.inputs)
    inputs.push_back(json{{"name", in.name},
                          {"shape", in.shape},
                          {"channel_axis", in.channel_axis},
                          {"mean", DoublesJson(in.mean)},
                          {"std", DoublesJson(in.std)},
                          {"values", HistogramJson(in.values)}});
  for (const OutputReference& out : ref.outputs) {
    json o{{"name", out.name}, {"kind", out.classes ? "classes" : "values"}};
    if (out.classes) {
      o["class_counts"] = out.class_counts;
      o["top1_score"] = HistogramJson(out.values);
    } else {
      o["values"] = HistogramJson(out.values);
    }
    outputs.push_back(std::move(o));
  }
  // nlohmann's object keys are sorted, so equal references give equal bytes.
  return json{{"v", ref.version}, {"samples", ref.samples}, {"inputs", inputs},
              {"outputs", outputs}}
      .dump();
}

Expected<ModelReference> ParseModelReference(std::string_view text) {
  // The writer nests 4 deep; anything much deeper is not a reference (and would recurse).
  if (!JsonNestingWithin(text, 8)) return Error("model reference: JSON nested too deeply");
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return Error(std::string("model reference: not valid JSON (") + e.what() + ")");
  }
  try {
    return ParseReferenceJson(j);
  } catch (const Error& e) {
    return e;
  } catch (const json::exception& e) {
    return Error(std::string("model reference: ") + e.what());
  }
}

Expected<ModelReference> ReadModelReference(const LoadedModel& model) {
  const auto* metadata = model.fb().metadata();
  if (metadata)
    for (const auto* kv : *metadata)
      if (kv->key() && kv->key()->str() == kReferenceKey) {
        if (!kv->value()) break;
        Expected<ModelReference> r = ParseModelReference(kv->value()->string_view());
        if (!r) return Error(model.path() + ": " + r.message());
        return r;
      }
  return Error(model.path() + ": the model carries no drift reference (compile it with "
                              "'outpost compile --reference DATA')");
}

Expected<ModelReference> BuildModelReference(const LoadedModel& model,
                                             std::span<const std::vector<float>> samples) {
  if (samples.empty()) return Error("model reference: no reference samples");
  Expected<std::unique_ptr<Session>> created = Session::Create(model);
  if (!created) return created.error();
  Session& s = **created;
  if (s.num_inputs() != 1)
    return Error("model reference: reference data feeds single-input models; this one has " +
                 std::to_string(s.num_inputs()) + " inputs");
  const bool classifier = model.fb().task() == opm::Task::CLASSIFICATION;

  ModelReference ref;
  ref.samples = samples.size();
  InputReference in;
  in.name = s.input_name(0);
  in.shape = s.input_shape(0);
  const auto* specs = model.fb().input_specs();
  const opm::Layout layout =
      specs && specs->size() > 0 ? specs->Get(0)->layout() : opm::Layout::ANY;
  in.channel_axis = ChannelAxis(in.shape, layout);
  ref.inputs.push_back(in);
  for (int o = 0; o < s.num_outputs(); ++o) {
    OutputReference out;
    out.name = s.output_name(o);
    out.classes = classifier && IsClassVector(s.output_shape(o));
    if (out.classes) out.class_counts.assign(static_cast<size_t>(NumElements(s.output_shape(o))), 0);
    ref.outputs.push_back(std::move(out));
  }

  // Mean and std come from every value; histograms from a fixed hashed subset of at most
  // kEdgeSampleValues values per tensor (top-1 scores: one per sample, all kept).
  const int64_t in_n = NumElements(in.shape);
  const int64_t channels = Channels(in), inner = ChannelInner(in);
  std::vector<double> sum(static_cast<size_t>(channels)), sum_sq(sum.size());
  std::vector<uint64_t> count(sum.size());
  auto keep_every = [&](int64_t per_sample) {
    const uint64_t total = static_cast<uint64_t>(per_sample) * samples.size();
    return std::max<uint64_t>(1, (total + kEdgeSampleValues - 1) / kEdgeSampleValues);
  };
  const uint64_t in_every = keep_every(in_n);
  std::vector<float> in_values;
  std::vector<std::vector<float>> out_values(ref.outputs.size());
  std::vector<uint64_t> out_every(ref.outputs.size());
  for (size_t o = 0; o < ref.outputs.size(); ++o)
    out_every[o] = keep_every(NumElements(s.output_shape(static_cast<int>(o))));
  std::vector<float> out;
  uint64_t in_index = 0;
  std::vector<uint64_t> out_index(ref.outputs.size());
  for (size_t k = 0; k < samples.size(); ++k) {
    const std::vector<float>& x = samples[k];
    if (static_cast<int64_t>(x.size()) != in_n)
      return Error("model reference: sample " + std::to_string(k) + " has " +
                   std::to_string(x.size()) + " values, the input takes " + std::to_string(in_n));
    for (int64_t i = 0; i < in_n; ++i) {
      const double v = x[static_cast<size_t>(i)];
      const size_t c = static_cast<size_t>((i / inner) % channels);
      sum[c] += v;
      sum_sq[c] += v * v;
      ++count[c];
      if (RefMix(in_index++) % in_every == 0) in_values.push_back(x[static_cast<size_t>(i)]);
    }
    Expected<Unit> set = s.SetInputFromFloat(0, x);
    if (!set) return set.error();
    Expected<Unit> run = s.Run();
    if (!run) return Error("model reference: sample " + std::to_string(k) + ": " + run.message());
    for (size_t o = 0; o < ref.outputs.size(); ++o) {
      s.OutputAsFloat(static_cast<int>(o), out);
      OutputReference& r = ref.outputs[o];
      if (r.classes) {
        const size_t top = TopIndex(out);
        ++r.class_counts[top];
        out_values[o].push_back(out[top]);
      } else {
        for (float v : out)
          if (RefMix(out_index[o]++) % out_every[o] == 0) out_values[o].push_back(v);
      }
    }
  }
  InputReference& ri = ref.inputs[0];
  for (size_t c = 0; c < sum.size(); ++c) {
    const double n = static_cast<double>(count[c]);
    const double mean = sum[c] / n;
    ri.mean.push_back(mean);
    ri.std.push_back(std::sqrt(std::max(0.0, sum_sq[c] / n - mean * mean)));
  }
  ri.values = HistogramOf(in_values);
  for (size_t o = 0; o < ref.outputs.size(); ++o)
    ref.outputs[o].values = HistogramOf(out_values[o]);
  // The stored form rounds mean and std; return exactly what a reader will see.
  return ParseModelReference(ModelReferenceToJson(ref));
}

ReferenceAccumulator::ReferenceAccumulator(const ModelReference& like) : result_(like) {
  Reset();
}

void ReferenceAccumulator::Reset() {
  result_.samples = 0;
  sum_.assign(result_.inputs.size(), {});
  sum_sq_.assign(result_.inputs.size(), {});
  n_.assign(result_.inputs.size(), {});
  for (size_t i = 0; i < result_.inputs.size(); ++i) {
    InputReference& in = result_.inputs[i];
    const size_t channels = static_cast<size_t>(Channels(in));
    sum_[i].assign(channels, 0.0);
    sum_sq_[i].assign(channels, 0.0);
    n_[i].assign(channels, 0);
    std::fill(in.values.counts.begin(), in.values.counts.end(), 0);
  }
  for (OutputReference& out : result_.outputs) {
    std::fill(out.class_counts.begin(), out.class_counts.end(), 0);
    std::fill(out.values.counts.begin(), out.values.counts.end(), 0);
  }
}

Expected<Unit> ReferenceAccumulator::Add(std::span<const std::span<const float>> inputs,
                                         std::span<const std::span<const float>> outputs) {
  if (inputs.size() != result_.inputs.size() || outputs.size() != result_.outputs.size())
    return Error("drift: the model has " + std::to_string(inputs.size()) + " inputs and " +
                 std::to_string(outputs.size()) + " outputs, its reference " +
                 std::to_string(result_.inputs.size()) + " and " +
                 std::to_string(result_.outputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (static_cast<int64_t>(inputs[i].size()) != NumElements(result_.inputs[i].shape))
      return Error("drift: input '" + result_.inputs[i].name + "' has " +
                   std::to_string(inputs[i].size()) + " values, its reference " +
                   std::to_string(NumElements(result_.inputs[i].shape)));
  for (size_t o = 0; o < outputs.size(); ++o)
    if (result_.outputs[o].classes && outputs[o].size() != result_.outputs[o].class_counts.size())
      return Error("drift: output '" + result_.outputs[o].name + "' has " +
                   std::to_string(outputs[o].size()) + " classes, its reference " +
                   std::to_string(result_.outputs[o].class_counts.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    InputReference& in = result_.inputs[i];
    const int64_t channels = Channels(in), inner = ChannelInner(in);
    for (size_t k = 0; k < inputs[i].size(); ++k) {
      const float v = inputs[i][k];
      if (!std::isfinite(v)) continue;
      const size_t c = static_cast<size_t>((static_cast<int64_t>(k) / inner) % channels);
      sum_[i][c] += v;
      sum_sq_[i][c] += static_cast<double>(v) * v;
      ++n_[i][c];
      in.values.Add(v);
    }
  }
  for (size_t o = 0; o < outputs.size(); ++o) {
    OutputReference& out = result_.outputs[o];
    if (out.classes) {
      const size_t top = TopIndex(outputs[o]);
      ++out.class_counts[top];
      out.values.Add(outputs[o][top]);
    } else {
      for (float v : outputs[o]) out.values.Add(v);
    }
  }
  ++result_.samples;
  return Unit{};
}

ModelReference ReferenceAccumulator::Result() const {
  ModelReference r = result_;
  for (size_t i = 0; i < r.inputs.size(); ++i)
    for (size_t c = 0; c < n_[i].size(); ++c) {
      const double n = static_cast<double>(n_[i][c]);
      const double mean = n > 0 ? sum_[i][c] / n : 0.0;
      r.inputs[i].mean[c] = mean;
      r.inputs[i].std[c] = n > 0 ? std::sqrt(std::max(0.0, sum_sq_[i][c] / n - mean * mean)) : 0.0;
    }
  return r;
}

}  // namespace outpost::io
