#include "tools/outpost/model_json.h"

#include <cctype>

#include "io/host_tensor.h"
#include "io/op_info.h"
#include "io/preprocess.h"

namespace outpost::cli {
namespace {

std::string Lower(const char* s) {
  std::string out = s != nullptr ? s : "";
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string TaskName(opm::Task task) { return Lower(opm::EnumNameTask(task)); }
std::string LayoutName(opm::Layout layout) { return opm::EnumNameLayout(layout); }
std::string ColorName(opm::ColorFormat color) { return Lower(opm::EnumNameColorFormat(color)); }

nlohmann::json TensorJson(const io::LoadedModel& model, int tensor) {
  const opm::Tensor& t = *model.fb().tensors()->Get(tensor);
  nlohmann::json j;
  j["index"] = tensor;
  j["name"] = model.TensorName(tensor);
  j["shape"] = io::TensorShape(model.model(), tensor);
  j["dtype"] = io::ModelDTypeName(t.dtype());
  j["constant"] = t.buffer() >= 0;
  if (const opm::Quantization* q = t.quantization()) {
    nlohmann::json qj;
    qj["scale"] = std::vector<float>(q->scale()->begin(), q->scale()->end());
    // Expanded to one zero point per scale even where the file shares one across channels.
    std::vector<int64_t> zp(q->zero_point()->begin(), q->zero_point()->end());
    if (zp.size() == 1) zp.resize(q->scale()->size(), zp[0]);
    qj["zero_point"] = zp;
    qj["axis"] = q->axis();
    j["quantization"] = qj;
  } else {
    j["quantization"] = nullptr;
  }
  return j;
}

nlohmann::json InputSpecJson(const io::LoadedModel& model, int input_index) {
  const opm::InputSpec* s = io::FindInputSpec(model.model(), input_index);
  if (s == nullptr) return nullptr;
  nlohmann::json j;
  j["layout"] = LayoutName(s->layout());
  j["color"] = ColorName(s->color());
  j["value_scale"] = s->value_scale();
  j["mean"] =
      s->mean() ? std::vector<float>(s->mean()->begin(), s->mean()->end()) : std::vector<float>();
  j["std"] =
      s->std() ? std::vector<float>(s->std()->begin(), s->std()->end()) : std::vector<float>();
  return j;
}

}  // namespace outpost::cli
