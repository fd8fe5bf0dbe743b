// ONNX -> IR: loading, opset check, graph inputs and initializers, the node loop, graph
// outputs and model information. The lowering of each op lives in the family files.
#include "compiler/import/onnx_importer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "compiler/import/import_context.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"

namespace outpost::import {
namespace {

constexpr int kMaxOpset = 17;
// The lowerings implement each operator as opset 11 defines it, and follow the changes of
// opsets 12 to 17 with opset checks of their own. Older opsets are accepted operator by
// operator (CheckOlderDefinition).
constexpr int kBaseOpset = 11;

// Definitions older than the opset-11 one that the lowerings read as ONNX defines them: the
// oldest since-version accepted. Each differs from its opset-11 successor only as noted.
struct OlderForm {
  const char* op;
  int oldest;
};
constexpr OlderForm kOlderForms[] = {
    {"Clip", 6},       // min and max are attributes (inputs from opset 11)
    {"Constant", 1},   // only `value`; opset 11 added sparse_value
    {"Softmax", 1},    // negative axis added in 11; the pre-13 lowering flattens at `axis`
    {"Split", 2},      // negative axis added in 11; `split` is read as an attribute before 13
    {"Squeeze", 1},    // negative axes added in 11; `axes` is an attribute before 13
    {"Unsqueeze", 1},  // as Squeeze
};

const OpTable& Lowerings() {
  static const OpTable table = [] {
    OpTable t;
    RegisterConvPoolOps(t);
    RegisterElementwiseOps(t);
    RegisterLinearOps(t);
    RegisterTensorOps(t);
    RegisterPadResizeReduceOps(t);
    RegisterShapeOps(t);
    RegisterQuantOps(t);
    return t;
  }();
  return table;
}

onnx::ModelProto LoadModel(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error("cannot open ONNX model '" + path + "': no such file");
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error("cannot open ONNX model '" + path + "': not a regular file");
  const uintmax_t size = std::filesystem::file_size(path, ec);
  // Protobuf messages are limited to 2 GiB; larger models keep their weights as external data.
  if (!ec && size > static_cast<uintmax_t>(std::numeric_limits<int>::max()))
    Unsupported("ONNX file '" + path + "' of " + std::to_string(size) +
                " bytes (protobuf reads at most 2 GiB; larger models store weights as external "
                "data, which the importer does not read)");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error("cannot open ONNX model '" + path + "': " + std::strerror(errno));
  google::protobuf::io::IstreamInputStream raw(&file);
  google::protobuf::io::CodedInputStream coded(&raw);
  // The default limit was 64 MiB in older protobuf releases; models with large weights exceed it.
  coded.SetTotalBytesLimit(std::numeric_limits<int>::max());
  onnx::ModelProto model;
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    throw Error("'" + path + "' is not an ONNX model (the protobuf data does not parse)");
  if (!model.has_graph() || model.ir_version() <= 0)
    throw Error("'" + path + "' is not an ONNX model (no graph or no IR version)");
  return model;
}

int DefaultOpset(const onnx::ModelProto& model) {
  int opset = -1;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = static_cast<int>(o.version());
  if (opset < 0) throw Error("the model imports no opset of the default ONNX domain");
  if (opset < 1)
    throw Error("the model imports opset " + std::to_string(opset) +
                " of the default ONNX domain, which does not exist");
  if (opset > kMaxOpset)
    Unsupported("opset " + std::to_string(opset) + " of the default ONNX domain (the importer " +
                "takes opsets up to " + std::to_string(kMaxOpset) +
                "; convert the model with onnx.version_converter)");
  return opset;
}

// A node of a model whose opset is below 11 is lowered only when ONNX defines its operator at
// that opset exactly as at opset 11 (both resolve to the same definition, i.e. the same
// since-version in ONNX's schema registry), or when its older definition is one the lowering
// reads (kOlderForms). Any other older definition means something the lowering does not
// implement (e.g. ConvTranspose-1 splits odd padding the other way round from
// ConvTranspose-11), so it is refused rather than silently reinterpreted.
void CheckOlderDefinition(const OnnxNode& node) {
  const int opset = node.opset();
  if (opset >= kBaseOpset) return;
  const std::string& op = node.op_type();
  const onnx::OpSchema* old = onnx::OpSchemaRegistry::Schema(op, opset, onnx::ONNX_DOMAIN);
  const onnx::OpSchema* base = onnx::OpSchemaRegistry::Schema(op, kBaseOpset, onnx::ONNX_DOMAIN);
  if (old == nullptr)
    throw Error("operator " + op + " does not exist in opset " + std::to_string(opset) +
                " of the default ONNX domain");
  const int since = old->SinceVersion();
  if (base != nullptr && since == base->SinceVersion()) return;
  for (const OlderForm& f : kOlderForms)
    if (op == f.op && since >= f.oldest) return;
  const std::string current =
      base != nullptr ? op + "-" + std::to_string(base->SinceVersion()) : op + " of opset 11";
  Unsupported(op + "-" + std::to_string(since) + ", the definition opset " + std::to_string(opset) +
              " uses: the importer implements " + current +
              " and later, which define the operator differently (convert the model with "
              "onnx.version_converter)");
}

Shape InputShape(const onnx::ValueInfoProto& v, const ImportOptions& options) {
  auto given = options.input_shapes.find(v.name());
  if (given != options.input_shapes.end()) {
    for (int64_t d : given->second)
      if (d < 1)
        throw Error("ImportOptions::input_shapes['" + v.name() + "'] = " + ShapeStr(given->second) +
                    " has a dimension below 1");
    return given->second;
  }
  const onnx::TensorShapeProto& s = v.type().tensor_type().shape();
  if (!v.type().tensor_type().has_shape())
    throw Error("graph input '" + v.name() +
                "' declares no shape; give one in ImportOptions::input_shapes");
  Shape shape;
  for (const auto& d : s.dim()) {
    if (d.has_dim_value() && d.dim_value() >= 0) {
      shape.push_back(d.dim_value());
    } else {
      shape.push_back(options.dynamic_dim);  // symbolic (dim_param) or unknown
    }
  }
  return shape;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t b = item.find_first_not_of(" \t");
    const size_t e = item.find_last_not_of(" \t");
    out.push_back(b == std::string::npos ? "" : item.substr(b, e - b + 1));
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

float ParseFloat(const std::string& key, const std::string& text) {
  try {
    size_t used = 0;
    const float v = std::stof(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error("metadata " + key + ": '" + text + "' is not a number");
}

std::vector<float> ParseFloats(const std::string& key, const std::string& text) {
  std::vector<float> v;
  for (const std::string& item : SplitList(text)) v.push_back(ParseFloat(key, item));
  return v;
}

// outpost.* metadata_props -> ModelInfo; other keys are kept as free-form metadata.
void ReadModelInfo(const onnx::ModelProto& model, ir::Graph& g) {
  ir::ModelInfo& info = g.info;
  info.name = model.graph().name();
  info.producer = model.producer_name();
  if (!model.producer_version().empty())
    info.producer += (info.producer.empty() ? "" : " ") + model.producer_version();
  ir::InputSpec spec;
  bool has_spec = false;
  for (const auto& kv : model.metadata_props()) {
    const std::string& k = kv.key();
    const std::string& v = kv.value();
    if (k == "outpost.task") {
      static const std::map<std::string, opm::Task> kTasks = {
          {"generic", opm::Task::GENERIC},
          {"classification", opm::Task::CLASSIFICATION},
          {"detection", opm::Task::DETECTION},
          {"anomaly", opm::Task::ANOMALY},
          {"keyword_spotting", opm::Task::KEYWORD_SPOTTING},
          {"regression", opm::Task::REGRESSION}};
      auto it = kTasks.find(Lower(v));
      if (it == kTasks.end())
        throw Error("metadata outpost.task: '" + v +
                    "' is not one of classification, detection, anomaly, keyword_spotting, "
                    "regression");
      info.task = it->second;
    } else if (k == "outpost.labels") {
      info.labels = SplitList(v);
    } else if (k == "outpost.layout") {
      const std::string l = Lower(v);
      if (l == "nchw") {
        spec.layout = opm::Layout::NCHW;
      } else if (l == "nhwc") {
        spec.layout = opm::Layout::NHWC;
      } else if (l == "any") {
        spec.layout = opm::Layout::ANY;
      } else {
        throw Error("metadata outpost.layout: '" + v + "' is not one of NCHW, NHWC, ANY");
      }
      has_spec = true;
    } else if (k == "outpost.color") {
      const std::string c = Lower(v);
      if (c == "gray" || c == "grey") {
        spec.color = opm::ColorFormat::GRAY;
      } else if (c == "rgb") {
        spec.color = opm::ColorFormat::RGB;
      } else if (c == "bgr") {
        spec.color = opm::ColorFormat::BGR;
      } else if (c == "none" || c.empty()) {
        spec.color = opm::ColorFormat::NONE;  // feature inputs (audio features, sensor frames)
      } else {
        throw Error("metadata outpost.color: '" + v + "' is not one of gray, rgb, bgr, none");
      }
      has_spec = true;
    } else if (k == "outpost.value_scale") {
      spec.value_scale = ParseFloat(k, v);
      has_spec = true;
    } else if (k == "outpost.mean") {
      spec.mean = ParseFloats(k, v);
      has_spec = true;
    } else if (k == "outpost.std") {
      spec.std = ParseFloats(k, v);
      for (float s : spec.std)
        if (!(s > 0.0f)) throw Error("metadata outpost.std: every value must be positive");
      has_spec = true;
    } else {
      info.metadata[k] = v;
    }
  }
  if (has_spec && !g.inputs.empty()) {
    spec.tensor = g.inputs[0];
    info.input_specs.push_back(spec);
  }
}

ir::Graph Import(const onnx::ModelProto& model, const ImportOptions& options) {
  const int opset = DefaultOpset(model);
  const onnx::GraphProto& graph = model.graph();
  ir::Graph g;
  g.info.source_node_count = static_cast<size_t>(graph.node_size());
  ImportContext ctx(g, options);

  if (graph.sparse_initializer_size() > 0)
    Unsupported("sparse initializer '" + graph.sparse_initializer(0).values().name() + "'");
  std::set<std::string> initializer_names;
  for (const onnx::TensorProto& t : graph.initializer()) {
    initializer_names.insert(t.name());
    ctx.Bind(t.name(), ctx.NewConstant(t.name(), TensorFromOnnx(t)));
  }
  std::set<std::string> input_names;
  for (const onnx::ValueInfoProto& v : graph.input()) {
    input_names.insert(v.name());
    if (initializer_names.count(v.name())) continue;  // an initializer: a constant
    if (!v.type().has_tensor_type())
      Unsupported("graph input '" + v.name() + "': only tensors are supported (not sequences, " +
                  "maps or optionals)");
    ctx.DeclareInput(v.name(), v.type().tensor_type().elem_type(), InputShape(v, options));
  }
  for (const auto& [name, value] : options.input_values)
    if (!input_names.count(name))
      throw Error("ImportOptions::input_values names '" + name + "', which is not a graph input");
  for (const auto& [name, shape] : options.input_shapes)
    if (!input_names.count(name))
      throw Error("ImportOptions::input_shapes names '" + name + "', which is not a graph input");

  const OpTable& table = Lowerings();
  for (const onnx::NodeProto& proto : graph.node()) {
    const OnnxNode node(proto, opset);
    const bool default_domain = proto.domain().empty() || proto.domain() == "ai.onnx";
    auto it = default_domain ? table.find(proto.op_type()) : table.end();
    if (it == table.end())
      Unsupported("operator '" +
                  (default_domain ? proto.op_type() : proto.domain() + "." + proto.op_type()) +
                  "' (node '" + node.name() + "', opset " + std::to_string(opset) + ")");
    try {
      if (proto.output_size() < 1) throw Error("the node has no outputs");
      CheckOlderDefinition(node);
      it->second(ctx, node);
    } catch (const Error& e) {
      throw Error(node.Label() + ": " + e.what());
    }
  }

  std::set<int> used;
  for (const onnx::ValueInfoProto& v : graph.output()) {
    int t = ctx.ValueForOutput(v.name());
    // ONNX uint8 values are INT8 inside the graph; the model's output is uint8 again.
    if (ctx.IsUint8(t)) t = ctx.Uint8Output(t, v.name());
    // A graph output must be computed into its own arena tensor.
    if (g.tensors[t].constant || used.count(t) || ctx.IsInputTensor(t) || !ctx.Rename(t, v.name()))
      t = ctx.Materialize(t, v.name());
    used.insert(t);
    g.outputs.push_back(t);
  }
  g.inputs = ctx.FinishInputs();
  ReadModelInfo(model, g);
  g.RemoveUnusedTensors();
  g.Validate();
  return g;
}

// Converts any exception into an Error: malformed models must never crash the caller.
template <typename F>
Expected<ir::Graph> Guarded(F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    return Error(std::string("ONNX import failed: ") + e.what());
  }
}

}  // namespace

Expected<ir::Graph> ImportOnnxModel(const onnx::ModelProto& model, const ImportOptions& options) {
  return Guarded([&] { return Import(model, options); });
}

std::vector<std::string> SupportedOnnxOperators() {
  std::set<std::string> names;
  for (const auto& [name, fn] : Lowerings()) names.insert(name);
  return {names.begin(), names.end()};
}

Expected<ir::Tensor> TensorFromOnnxProto(const onnx::TensorProto& proto) {
  return Capture([&] { return TensorFromOnnx(proto); });
}

Expected<ir::Graph> ImportOnnxFile(const std::string& path, const ImportOptions& options) {
  return Guarded([&] {
    const onnx::ModelProto model = LoadModel(path);
    return Import(model, options);
  });
}

}  // namespace outpost::import
