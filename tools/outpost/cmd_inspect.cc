// outpost inspect: everything a deployer needs to know about an .opm model, including the
// exact arena it needs with this build's kernels.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "io/host_tensor.h"
#include "io/model_file.h"
#include "io/model_reference.h"
#include "io/op_info.h"
#include "io/preprocess.h"
#include "io/session.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"
#include "tools/outpost/model_json.h"

namespace outpost::cli {
namespace {

struct InspectArgs {
  std::string model;
  bool json = false;
};

std::string Str(const flatbuffers::String* s) { return s != nullptr ? s->str() : ""; }

bool HasReference(const opm::Model& fb) {
  if (fb.metadata())
    for (const auto* kv : *fb.metadata())
      if (Str(kv->key()) == io::kReferenceKey) return true;
  return false;
}

// One line on the drift reference the model carries (its JSON is kilobytes: not printed).
std::string ReferenceLine(const io::LoadedModel& m) {
  Expected<io::ModelReference> r = io::ReadModelReference(m);
  if (!r) return "unreadable: " + r.message();
  int classes = 0;
  for (const io::OutputReference& o : r->outputs) classes += o.classes;
  return "drift reference v" + std::to_string(r->version) + ", " + std::to_string(r->samples) +
         " samples: " + std::to_string(r->inputs.size()) + " input(s), " +
         std::to_string(r->outputs.size()) + " output(s)" +
         (classes ? " (" + std::to_string(classes) + " with class distribution)" : "");
}

std::string TensorText(const io::LoadedModel& m, int tensor) {
  const opm::Tensor& t = *m.fb().tensors()->Get(tensor);
  std::string s =
      io::ShapeString(io::TensorShape(m.model(), tensor)) + " " + io::ModelDTypeName(t.dtype());
  if (const opm::Quantization* q = t.quantization()) {
    if (q->axis() < 0)
      s += " (scale " + FormatFloat(q->scale()->Get(0)) + ", zero point " +
           std::to_string(q->zero_point()->Get(0)) + ")";
    else
      s += " (per-channel on axis " + std::to_string(q->axis()) + ")";
  }
  return s;
}

std::string SpecText(const io::LoadedModel& m, int input) {
  const opm::InputSpec* s = io::FindInputSpec(m.model(), input);
  if (s == nullptr) return "";
  auto floats = [](const flatbuffers::Vector<float>* v) {
    std::string out = "[";
    if (v != nullptr)
      for (uint32_t i = 0; i < v->size(); ++i) out += (i ? "," : "") + FormatFloat(v->Get(i));
    return out + "]";
  };
  return "layout " + LayoutName(s->layout()) + ", color " + ColorName(s->color()) +
         ", value_scale " + FormatFloat(s->value_scale()) + ", mean " + floats(s->mean()) +
         ", std " + floats(s->std());
}

// Shapes of an op's activation operands ("[1,16,28,28]"), skipping constants.
std::string ActivationShapes(const io::LoadedModel& m, const std::vector<int>& tensors) {
  std::string s;
  for (int t : tensors) {
    if (t < 0 || m.fb().tensors()->Get(t)->buffer() >= 0) continue;
    if (!s.empty()) s += " ";
    s += io::ShapeString(io::TensorShape(m.model(), t));
  }
  return s;
}

struct Memory {
  bool measured = false;
  std::string error;
  ArenaRequirement need;
};

Memory MeasureArena(const io::LoadedModel& m) {
  Memory mem;
  AllOpsResolver resolver;
  ErrorReporter errors;
  if (RegisterAllKernels(resolver) != Status::kOk) {
    mem.error = "kernel table larger than the resolver";
    return mem;
  }
  // The arena depends on the kernels: packed weights, and sparse weights only some read in place.
  resolver.set_cpu_features(io::KernelFeaturesFromEnvironment(resolver.cpu_features()));
  if (Interpreter::Measure(m.model(), resolver, &mem.need, &errors) != Status::kOk) {
    mem.error = errors.message();
  } else {
    mem.measured = true;
  }
  return mem;
}

void PrintJson(const io::LoadedModel& m, const io::ModelTotals& totals, const Memory& mem,
               size_t hashes) {
  const opm::Model& fb = m.fb();
  nlohmann::json j;
  j["path"] = m.path();
  j["file_bytes"] = m.file_size();
  j["format_version"] = std::to_string(m.model().header().format_major) + "." +
                        std::to_string(m.model().header().format_minor);
  j["name"] = Str(fb.name());
  j["producer"] = Str(fb.producer());
  j["task"] = TaskName(fb.task());
  j["labels"] = nlohmann::json::array();
  if (fb.labels())
    for (const auto* l : *fb.labels()) j["labels"].push_back(l->str());
  j["inputs"] = nlohmann::json::array();
  for (int i = 0; i < m.model().num_inputs(); ++i) {
    nlohmann::json t = TensorJson(m, m.model().input_tensor(i));
    t["spec"] = InputSpecJson(m, i);
    j["inputs"].push_back(t);
  }
  j["outputs"] = nlohmann::json::array();
  for (int i = 0; i < m.model().num_outputs(); ++i)
    j["outputs"].push_back(TensorJson(m, m.model().output_tensor(i)));
  j["ops"] = nlohmann::json::array();
  for (int i = 0; i < m.model().num_operators(); ++i) {
    const io::OpInfo op = io::DescribeOperator(m.model(), i);
    nlohmann::json o;
    o["index"] = i;
    o["op"] = op.op;
    o["name"] = op.name;
    o["inputs"] = nlohmann::json::array();
    for (int t : op.inputs)
      o["inputs"].push_back(t < 0 ? nlohmann::json(nullptr) : TensorJson(m, t));
    o["outputs"] = nlohmann::json::array();
    for (int t : op.outputs) o["outputs"].push_back(TensorJson(m, t));
    o["params"] = nlohmann::json::object();
    for (const auto& [k, v] : op.params) o["params"][k] = v;
    o["macs"] = op.macs;
    j["ops"].push_back(o);
  }
  j["op_count"] = totals.ops;
  j["params"] = totals.params;
  j["weight_bytes"] = totals.weight_bytes;
  j["macs"] = totals.macs;
  j["arena_bytes"] = fb.plan()->arena_bytes();
  j["arena_lower_bound_bytes"] = fb.plan()->lower_bound_bytes();
  if (fb.plan()->lower_bound_bytes() > 0)
    j["arena_ratio"] = static_cast<double>(fb.plan()->arena_bytes()) /
                       static_cast<double>(fb.plan()->lower_bound_bytes());
  else
    j["arena_ratio"] = nullptr;
  if (mem.measured) {
    j["scratch_bytes"] = mem.need.scratch_bytes;
    j["runtime_state_bytes"] = mem.need.state_bytes;
    j["packed_weight_bytes"] = mem.need.packed_bytes;
    j["decoded_sparse_bytes"] = mem.need.decoded_bytes;
    j["total_arena_bytes"] = mem.need.total_bytes;
  } else {
    j["scratch_bytes"] = nullptr;
    j["runtime_state_bytes"] = nullptr;
    j["packed_weight_bytes"] = nullptr;
    j["decoded_sparse_bytes"] = nullptr;
    j["total_arena_bytes"] = nullptr;
    j["runtime_error"] = mem.error;
  }
  j["self_test"] = fb.self_test() != nullptr;
  j["content_hashes_verified"] = hashes;
  j["metadata"] = nlohmann::json::object();
  if (fb.metadata())
    for (const auto* kv : *fb.metadata()) j["metadata"][Str(kv->key())] = Str(kv->value());
  j["drift_reference"] = HasReference(fb) ? nlohmann::json(ReferenceLine(m)) : nlohmann::json();
  std::cout << j.dump(2) << "\n";
}

void PrintText(const io::LoadedModel& m, const io::ModelTotals& totals, const Memory& mem,
               size_t hashes) {
  const opm::Model& fb = m.fb();
  std::ostream& out = std::cout;
  out << "model:       " << m.path() << ", " << FormatBytesExact(m.file_size()) << "\n";
  out << "format:      " << m.model().header().format_major << "."
      << m.model().header().format_minor << "\n";
  out << "name:        " << Str(fb.name()) << "\n";
  out << "producer:    " << Str(fb.producer()) << "\n";
  out << "task:        " << TaskName(fb.task()) << "\n";
  if (fb.labels() && fb.labels()->size() > 0) {
    out << "labels:      " << fb.labels()->size() << ": ";
    for (uint32_t i = 0; i < fb.labels()->size(); ++i)
      out << (i ? ", " : "") << fb.labels()->Get(i)->str();
    out << "\n";
  }
  if (fb.metadata())
    for (const auto* kv : *fb.metadata())
      if (Str(kv->key()) != io::kReferenceKey)
        out << "metadata:    " << Str(kv->key()) << " = " << Str(kv->value()) << "\n";
  if (HasReference(fb)) out << "reference:   " << ReferenceLine(m) << "\n";

  out << "\ninputs:\n";
  for (int i = 0; i < m.model().num_inputs(); ++i) {
    const int t = m.model().input_tensor(i);
    out << "  " << i << "  '" << m.TensorName(t) << "'  " << TensorText(m, t) << "\n";
    const std::string spec = SpecText(m, i);
    if (!spec.empty()) out << "       spec: " << spec << "\n";
  }
  out << "outputs:\n";
  for (int i = 0; i < m.model().num_outputs(); ++i) {
    const int t = m.model().output_tensor(i);
    out << "  " << i << "  '" << m.TensorName(t) << "'  " << TensorText(m, t) << "\n";
  }

  out << "\noperators (" << totals.ops << "):\n";
  Table table({"#", "op", "name", "inputs", "outputs", "params", "MACs"},
              {true, false, false, false, false, false, true});
  for (int i = 0; i < m.model().num_operators(); ++i) {
    const io::OpInfo op = io::DescribeOperator(m.model(), i);
    table.AddRow({std::to_string(i), op.op, op.name, ActivationShapes(m, op.inputs),
                  ActivationShapes(m, op.outputs), io::JoinParams(op.params),
                  op.macs ? FormatCount(op.macs) : "-"});
  }
  table.Print(out);

  out << "\ntotals:      " << totals.ops << " ops, " << FormatCount(totals.params) << " params, "
      << FormatBytes(totals.weight_bytes) << " of weights, " << FormatCount(totals.macs)
      << " MACs\n";
  const uint64_t arena = fb.plan()->arena_bytes();
  const uint64_t lower = fb.plan()->lower_bound_bytes();
  out << "memory:\n";
  out << "  arena (planned activations):  " << FormatBytesExact(arena) << "\n";
  out << "  lower bound:                  " << FormatBytesExact(lower);
  if (lower) out << "  (plan/bound " << FormatFixed(double(arena) / double(lower), 2) << ")";
  out << "\n";
  if (mem.measured) {
    out << "  kernel scratch:               " << FormatBytesExact(mem.need.scratch_bytes) << "\n";
    if (mem.need.packed_bytes)
      out << "  packed weights:               " << FormatBytesExact(mem.need.packed_bytes)
          << "  (re-laid out for this CPU's kernels)\n";
    if (mem.need.decoded_bytes)
      out << "  decoded sparse weights:       " << FormatBytesExact(mem.need.decoded_bytes)
          << "  (stored sparse in the file, decoded at load)\n";
    out << "  runtime state:                " << FormatBytesExact(mem.need.state_bytes) << "\n";
    out << "  total arena (Measure):        " << FormatBytesExact(mem.need.total_bytes)
        << "  <- give the interpreter this much\n";
  } else {
    out << "  total arena (Measure):        unknown: " << mem.error << "\n";
  }
  if (const opm::SelfTest* st = fb.self_test())
    out << "self-test:   present (atol " << FormatFloat(st->atol()) << ", rtol "
        << FormatFloat(st->rtol()) << ")\n";
  else
    out << "self-test:   none\n";
  out << "hashes:      " << hashes << " constant buffers verified (BLAKE2b-256)\n";
}

void RunInspect(const InspectArgs& a) {
  const io::LoadedModel model = Must(io::LoadedModel::Open(a.model));
  const size_t hashes = Must(model.VerifyContentHashes());
  const io::ModelTotals totals = io::ComputeTotals(model.model());
  const Memory mem = MeasureArena(model);
  if (a.json)
    PrintJson(model, totals, mem, hashes);
  else
    PrintText(model, totals, mem, hashes);
}

}  // namespace

Command AddInspectCommand(CLI::App& root) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* app = root.add_subcommand("inspect", "Describe an .opm model: tensors, ops, memory");
  app->add_option("model", args->model, ".opm model file")->required();
  app->add_flag("--json", args->json, "Print one JSON object instead of text");
  app->footer(
      "The model is verified as the runtime would load it, and every constant's BLAKE2b-256\n"
      "content hash is checked. Examples:\n"
      "  outpost inspect model.opm\n"
      "  outpost inspect model.opm --json | jq .total_arena_bytes");
  return {app, [args] { RunInspect(*args); }};
}

}  // namespace outpost::cli
