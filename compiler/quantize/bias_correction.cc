// Bias correction (Nagel et al. 2019, section 4.2), empirical form: the input channel means
// come from the calibration data rather than from batch-norm statistics.
#include "compiler/quantize/quantize_internal.h"
#include "compiler/quantize/weights.h"

namespace outpost::quant {

std::vector<double> OutputMeanShift(const ir::Node& node, const ir::Tensor& weights,
                                    std::span<const float> quantized_weights,
                                    const std::vector<double>& mean) {
  const std::span<const float> w = weights.values<float>();
  const int64_t out_channels = weights.shape[0];
  const int64_t per_out = weights.num_elements() / out_channels;
  std::vector<double> shift(static_cast<size_t>(out_channels), 0.0);
  if (node.op == opm::OpCode::CONV_2D) {
    const auto* o = node.options.AsConv2DOptions();
    const int64_t groups = o ? o->groups : 1;
    const int64_t in_per_group = weights.shape[1];
    const int64_t kernel = per_out / in_per_group;
    if (static_cast<int64_t>(mean.size()) != in_per_group * groups) return {};
    const int64_t out_per_group = out_channels / groups;
    for (int64_t oc = 0; oc < out_channels; ++oc) {
      const int64_t g = oc / out_per_group;
      double acc = 0;
      for (int64_t i = 0; i < in_per_group; ++i) {
        const double m = mean[static_cast<size_t>(g * in_per_group + i)];
        const int64_t base = (oc * in_per_group + i) * kernel;
        double d = 0;
        for (int64_t k = 0; k < kernel; ++k)
          d += static_cast<double>(quantized_weights[static_cast<size_t>(base + k)]) -
               static_cast<double>(w[static_cast<size_t>(base + k)]);
        acc += d * m;
      }
      shift[static_cast<size_t>(oc)] = acc;
    }
    return shift;
  }
  if (node.op == opm::OpCode::FULLY_CONNECTED) {
    if (static_cast<int64_t>(mean.size()) != per_out) return {};
    for (int64_t oc = 0; oc < out_channels; ++oc) {
      double acc = 0;
      for (int64_t k = 0; k < per_out; ++k) {
        const size_t i = static_cast<size_t>(oc * per_out + k);
        acc += (static_cast<double>(quantized_weights[i]) - static_cast<double>(w[i])) *
               mean[static_cast<size_t>(k)];
      }
      shift[static_cast<size_t>(oc)] = acc;
    }
    return shift;
  }
  return {};
}

bool CorrectBias(const ir::Node& node, const ir::Tensor& weights,
                 std::span<const float> quantized_weights, const CalibrationResult& stats,
                 const std::string& input_name, std::vector<float>& bias,
                 std::vector<std::string>& warnings) {
  auto it = stats.tensors.find(input_name);
  if (it == stats.tensors.end() || it->second.channel_mean.empty()) {
    warnings.push_back("bias correction skipped for node '" + node.name +
                       "': calibration recorded no channel means for its input '" + input_name +
                       "'");
    return false;
  }
  const std::vector<double> shift =
      OutputMeanShift(node, weights, quantized_weights, it->second.channel_mean);
  if (shift.size() != bias.size()) {
    warnings.push_back("bias correction skipped for node '" + node.name + "': the " +
                       std::to_string(it->second.channel_mean.size()) +
                       " channel means of its input '" + input_name +
                       "' do not match its weights");
    return false;
  }
  for (size_t c = 0; c < bias.size(); ++c)
    bias[c] = static_cast<float>(static_cast<double>(bias[c]) - shift[c]);
  return true;
}

}  // namespace outpost::quant
