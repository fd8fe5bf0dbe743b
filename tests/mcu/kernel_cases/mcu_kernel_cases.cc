// Writes the single-operator cases of the Cortex-M kernel test as C++ source: int8 CONV_2D and
// FULLY_CONNECTED with awkward shapes (prime channel counts, odd depths that leave a tail to
// the four-at-a-time SMLAD loop and the sixteen-byte MVE vectors, pixel and channel counts that
// are not multiples of four, 1x1 / 3x3 / 10x4 / 5x5 kernels, strides, padding, dilation,
// depthwise, per-channel and per-tensor scales, fused RELU and CLIP, non-zero zero points),
// plus cases the optimized kernels hand back to the reference arithmetic (weight zero points,
// grouped, deep im2col). Each case: the model file, its input, and the output of the host's
// kernels (bit-exact with the reference).   Usage: mcu_kernel_cases OUT.cc
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "tests/runtime/conv_test_util.h"
#include "tests/runtime/int8_test_util.h"

namespace outpost::testing {
namespace {

struct Case {
  std::string name;
  std::vector<uint8_t> model, input, output;
};

struct ConvCase {
  const char* name;
  ConvParams p;
  bool per_channel;
  bool weight_zp;
  int x_zp, y_zp;
  float y_scale = 1.f;  // times the output scale OutScale spreads the outputs with
};

struct FcCase {
  const char* name;
  int n, k, out;
  bool per_channel;
  bool weight_zp;
  opm::Activation act;
  float act_min, act_max;
  int x_zp, y_zp;
  float y_scale = 1.f;
};

// Output scale for accumulators of depth k with weights near scale sw: spreads the outputs
// over the int8 range instead of saturating them.
float OutScale(float sx, float sw, int k) { return sx * sw * 74.f * 74.f * std::sqrt(k) / 40.f; }

Case Build(const std::string& name, opm::OpCode op, opm::OpOptionsUnion options,
           std::vector<Operand> ins, Operand out) {
  Case c;
  c.name = name;
  c.input = ins[0].bytes;
  SingleOpModel m(op, options, std::move(ins), {std::move(out)}, /*sparse_storage=*/false);
  if (m.status() != Status::kOk || m.Run() != Status::kOk) {
    std::fprintf(stderr, "case %s: %s\n", name.c_str(), m.error().c_str());
    std::exit(1);
  }
  c.model = m.file();
  c.output = m.OutputBytes(0);
  return c;
}

// The weights of `rows` output channels with random int8 values, quantized per channel or per
// tensor, with or without weight zero points (which send the optimized kernels to the
// reference arithmetic).
Operand Weights(const std::vector<int32_t>& shape, const std::vector<int8_t>& w, int rows,
                bool per_channel, bool weight_zp, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> scale(0.004f, 0.012f);
  std::uniform_int_distribution<int> zp(-20, 20);
  std::vector<float> sw;
  std::vector<int64_t> zw;
  const float s0 = scale(rng);
  const int z0 = weight_zp ? zp(rng) : 0;
  for (int r = 0; r < rows; ++r) {
    sw.push_back(per_channel ? scale(rng) : s0);
    zw.push_back(weight_zp ? (per_channel ? zp(rng) : z0) : 0);
  }
  return per_channel ? Int8PerAxis(shape, w, sw, zw, 0) : Int8(shape, w, {s0, z0}, true);
}

Case MakeConv(const ConvCase& cc, uint32_t seed) {
  const ConvParams& p = cc.p;
  const int cg = p.c / p.groups;
  const std::vector<int32_t> ws = {p.m, cg, p.kh, p.kw};
  const int oh = (p.h + p.pad_t + p.pad_b - (p.dil_h * (p.kh - 1) + 1)) / p.stride_h + 1;
  const int ow = (p.w + p.pad_l + p.pad_r - (p.dil_w * (p.kw - 1) + 1)) / p.stride_w + 1;
  const std::vector<int8_t> x = RandomInt8(static_cast<size_t>(p.n) * p.c * p.h * p.w, seed);
  const std::vector<int8_t> w =
      RandomInt8(static_cast<size_t>(p.m) * cg * p.kh * p.kw, seed + 1, -127, 127);
  const QParams qx{0.03f, cc.x_zp};
  std::vector<Operand> ins = {Int8({p.n, p.c, p.h, p.w}, x, qx),
                              Weights(ws, w, p.m, cc.per_channel, cc.weight_zp, seed + 2)};
  ins.push_back(p.bias ? Int32({p.m}, RandomInt32(p.m, seed + 3, -4000, 4000)) : Operand::Absent());
  const QParams qy{OutScale(qx.scale, 0.008f, cg * p.kh * p.kw) * cc.y_scale, cc.y_zp};
  return Build(cc.name, opm::OpCode::CONV_2D, Options(FillOptions<opm::Conv2DOptionsT>(p)),
               std::move(ins), OutI8({p.n, p.m, oh, ow}, qy));
}

Case MakeFc(const FcCase& fc, uint32_t seed) {
  const std::vector<int8_t> x = RandomInt8(static_cast<size_t>(fc.n) * fc.k, seed);
  const std::vector<int8_t> w = RandomInt8(static_cast<size_t>(fc.out) * fc.k, seed + 1, -127, 127);
  const QParams qx{0.03f, fc.x_zp};
  std::vector<Operand> ins = {
      Int8({fc.n, fc.k}, x, qx),
      Weights({fc.out, fc.k}, w, fc.out, fc.per_channel, fc.weight_zp, seed + 2)};
  ins.push_back(Int32({fc.out}, RandomInt32(fc.out, seed + 3, -4000, 4000)));
  opm::FullyConnectedOptionsT o;
  o.activation = fc.act;
  o.act_min = fc.act_min;
  o.act_max = fc.act_max;
  const QParams qy{OutScale(qx.scale, 0.008f, fc.k) * fc.y_scale, fc.y_zp};
  return Build(fc.name, opm::OpCode::FULLY_CONNECTED, Options(o), std::move(ins),
               OutI8({fc.n, fc.out}, qy));
}

ConvParams Conv(int n, int c, int h, int w, int m, int kh, int kw, int stride, int pad,
                int groups = 1, int dil = 1) {
  ConvParams p;
  p.n = n, p.c = c, p.h = h, p.w = w, p.m = m, p.kh = kh, p.kw = kw;
  p.stride_h = p.stride_w = stride;
  p.pad_t = p.pad_l = p.pad_b = p.pad_r = pad;
  p.groups = groups;
  p.dil_h = p.dil_w = dil;
  return p;
}

ConvParams WithAct(ConvParams p, opm::Activation act, float lo = 0, float hi = 0) {
  p.act = act, p.act_min = lo, p.act_max = hi;
  return p;
}

std::vector<Case> AllCases() {
  using opm::Activation;
  ConvParams first = Conv(1, 1, 49, 10, 17, 10, 4, 2, 0);  // the DS-CNN's first layer, shrunk
  first.pad_t = 4, first.pad_b = 5, first.pad_l = 1, first.pad_r = 2;
  ConvParams no_bias = Conv(1, 5, 4, 4, 3, 1, 1, 1, 0);
  no_bias.bias = false;
  ConvParams asym = Conv(1, 3, 7, 8, 5, 3, 2, 2, 0);  // 3x2 kernel, stride 2, asymmetric pads
  asym.pad_t = 1, asym.pad_l = 0, asym.pad_b = 2, asym.pad_r = 1;
  const std::vector<ConvCase> convs = {
      {"pointwise_c7_m13", Conv(1, 7, 5, 3, 13, 1, 1, 1, 0), true, false, -3, 5},
      {"pointwise_c64_m17_relu", WithAct(Conv(1, 64, 5, 5, 17, 1, 1, 1, 0), Activation::RELU),
       false, false, 11, -7},
      {"pointwise_c1_m1", Conv(1, 1, 1, 1, 1, 1, 1, 1, 0), true, false, 0, 0},
      {"pointwise_c13_m3_batch2", Conv(2, 13, 3, 7, 3, 1, 1, 1, 0), true, false, -128, 127},
      {"pointwise_c5_m3_no_bias", no_bias, false, false, 4, 0},
      {"conv3x3_c3_m7_pad1_relu6",
       WithAct(Conv(1, 3, 9, 7, 7, 3, 3, 1, 1), Activation::CLIP, 0.f, 6.f), true, false, 2, -1},
      {"conv3x3_c13_m1_stride2_pad1", Conv(1, 13, 8, 11, 1, 3, 3, 2, 1), true, false, -9, 3},
      {"conv10x4_c1_m17_stride2", first, true, false, 17, -2},
      {"conv3x3_c5_m3_dilation2", Conv(1, 5, 9, 8, 3, 3, 3, 1, 2, 1, 2), false, false, 1, 1},
      {"conv3x2_c3_m5_stride2_asym_pads", asym, true, false, -1, 9},
      {"depthwise3x3_c17_pad1_relu",
       WithAct(Conv(1, 17, 7, 6, 17, 3, 3, 1, 1, 17), Activation::RELU), true, false, -5, -20},
      {"depthwise3x3_c7_stride2_relu6",
       WithAct(Conv(1, 7, 9, 9, 7, 3, 3, 2, 1, 7), Activation::CLIP, 0.f, 6.f), true, false, 6, 3},
      {"depthwise5x5_c3_pad2", Conv(1, 3, 6, 5, 3, 5, 5, 1, 2, 3), false, false, 0, 2},
      {"depthwise4x4_c1_no_pad", Conv(1, 1, 8, 8, 1, 4, 4, 1, 0, 1), true, false, -2, 0},
      {"depthwise3x3_c5_dilation2", Conv(1, 5, 9, 9, 5, 3, 3, 1, 2, 5, 2), true, false, 3, -3},
      {"depthwise1x1_c3_batch2", Conv(2, 3, 4, 5, 3, 1, 1, 1, 0, 3), true, false, 7, 1},
      // Depths around the 16-byte vectors of the MVE kernels (1, 3, 15, 16, 17, 33, 512), pixel
      // and channel counts that are not multiples of four, 1x1 kernels with strides and padding
      // (pixels wholly in the padding), a plane too large for 16-bit gather offsets, and
      // multipliers far above and below 1 (left shifts that saturate, right shifts of 20 bits
      // and more):
      {"pointwise_c3_m5_stride2_pad1", Conv(1, 3, 7, 6, 5, 1, 1, 2, 1), true, false, 5, -6},
      {"pointwise_c15_m6", Conv(1, 15, 3, 3, 6, 1, 1, 1, 0), true, false, -17, 3},
      {"pointwise_c16_m4_relu", WithAct(Conv(1, 16, 2, 5, 4, 1, 1, 1, 0), Activation::RELU), false,
       false, 0, -128},
      {"pointwise_c17_m9_batch2", Conv(2, 17, 3, 1, 9, 1, 1, 1, 0), true, false, 100, 7},
      {"pointwise_c33_m2", Conv(1, 33, 1, 7, 2, 1, 1, 1, 0), false, false, -90, -30},
      {"pointwise_c2_m1_plane_98x97", Conv(1, 2, 98, 97, 1, 1, 1, 1, 0), true, false, 12, -4},
      {"conv4x4_c32_m3_depth_512", Conv(1, 32, 5, 5, 3, 4, 4, 1, 1), true, false, -7, 8},
      {"conv3x1_c1_m7_depth_3", Conv(1, 1, 6, 4, 7, 3, 1, 1, 1), true, false, 9, 0},
      {"conv1x1_c1_m3_saturating", Conv(1, 1, 3, 5, 3, 1, 1, 1, 0), true, false, -5, 3, 1e-7f},
      {"conv3x3_c5_m6_tiny_multiplier", Conv(1, 5, 5, 4, 6, 3, 3, 1, 1), true, false, 4, -9, 3e3f},
      {"depthwise1x16_c2", Conv(1, 2, 3, 18, 2, 1, 16, 1, 0, 2), true, false, -11, 4},
      {"depthwise3x1_c6_stride2_pad1", Conv(1, 6, 9, 5, 6, 3, 1, 2, 1, 6), false, false, 20, -2},
      {"depthwise4x4_c3_stride3_dilation2_pad3", Conv(1, 3, 11, 10, 3, 4, 4, 3, 3, 3, 2), true,
       false, -1, 1},
      {"depthwise2x2_c4_large_multiplier", Conv(1, 4, 4, 4, 4, 2, 2, 1, 1, 4), true, false, 3, -3,
       2e-3f},
      // Depthwise windows the MVE kernel hands to the DSP twin's arithmetic: wider than one
      // byte of offsets (a 3x3 window over 130 columns), more than 16 taps (5x5 above).
      {"depthwise3x3_c2_width_130", Conv(1, 2, 4, 130, 2, 3, 3, 1, 1, 2), true, false, -6, 2},
      // Handed back to the reference arithmetic inside the kernel:
      {"fallback_conv_weight_zero_points", Conv(1, 3, 5, 5, 7, 3, 3, 1, 1), true, true, 2, 1},
      {"fallback_conv_grouped", Conv(1, 4, 5, 5, 6, 3, 3, 1, 1, 2), true, false, 0, 0},
      {"fallback_conv_depth_576", Conv(1, 64, 4, 4, 3, 3, 3, 1, 1), true, false, -4, 2},
  };
  const std::vector<FcCase> fcs = {
      {"fc_n1_k1_o1", 1, 1, 1, true, false, Activation::NONE, 0, 0, 0, 0},
      {"fc_n1_k13_o7", 1, 13, 7, true, false, Activation::NONE, 0, 0, -3, 4},
      {"fc_n3_k31_o17_relu", 3, 31, 17, false, false, Activation::RELU, 0, 0, 9, -9},
      {"fc_n2_k640_o5", 2, 640, 5, true, false, Activation::NONE, 0, 0, -128, 0},
      {"fc_n1_k7_o3_zp127_clip", 1, 7, 3, false, false, Activation::CLIP, -2.f, 2.f, 127, -128},
      {"fc_n1_k3_o2", 1, 3, 2, true, false, Activation::NONE, 0, 0, 5, 1},
      {"fc_n1_k15_o5", 1, 15, 5, false, false, Activation::NONE, 0, 0, -60, 0},
      {"fc_n2_k16_o6_relu", 2, 16, 6, true, false, Activation::RELU, 0, 0, 33, -100},
      {"fc_n1_k17_o9", 1, 17, 9, true, false, Activation::NONE, 0, 0, -1, 2},
      {"fc_n3_k33_o4", 3, 33, 4, false, false, Activation::NONE, 0, 0, 77, -77},
      {"fc_n1_k255_o3", 1, 255, 3, true, false, Activation::NONE, 0, 0, -128, 127},
      {"fc_n1_k1_o5", 1, 1, 5, true, false, Activation::NONE, 0, 0, 13, -13},
      {"fc_n1_k639_o6", 1, 639, 6, true, false, Activation::NONE, 0, 0, 2, 0},
      {"fc_n1_k20_o7_saturating", 1, 20, 7, true, false, Activation::NONE, 0, 0, -3, 1, 1e-3f},
      {"fc_n2_k40_o3_tiny_multiplier", 2, 40, 3, false, false, Activation::NONE, 0, 0, 8, 5, 1e4f},
      {"fallback_fc_weight_zero_points", 2, 9, 5, true, true, Activation::NONE, 0, 0, 1, 2},
  };
  std::vector<Case> out;
  uint32_t seed = 1000;
  for (const ConvCase& c : convs) out.push_back(MakeConv(c, seed += 10));
  for (const FcCase& c : fcs) out.push_back(MakeFc(c, seed += 10));
  return out;
}

void Bytes(std::ostream& o, const char* type, const std::string& name,
           const std::vector<uint8_t>& b) {
  o << "alignas(16) const " << type << " " << name << "[] = {";
  for (size_t i = 0; i < b.size(); ++i) o << (i % 24 ? "" : "\n ") << ' ' << int(b[i]) << ',';
  o << "};\n";
}

}  // namespace
}  // namespace outpost::testing

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.cc\n", argv[0]);
    return 2;
  }
  const std::vector<outpost::testing::Case> cases = outpost::testing::AllCases();
  std::ostringstream o;
  o << "// Generated by tests/mcu/kernel_cases/mcu_kernel_cases; do not edit.\n"
    << "#include \"kernel_cases.h\"\n\nnamespace {\n";
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string n = std::to_string(i);
    outpost::testing::Bytes(o, "unsigned char", "kModel" + n, cases[i].model);
    outpost::testing::Bytes(o, "unsigned char", "kInput" + n, cases[i].input);
    outpost::testing::Bytes(o, "unsigned char", "kOutput" + n, cases[i].output);
  }
  o << "}  // namespace\n\nconst KernelCase kKernelCases[] = {\n";
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string n = std::to_string(i);
    o << "    {\"" << cases[i].name << "\", kModel" << n << ", sizeof(kModel" << n << "), kInput"
      << n << ", sizeof(kInput" << n << "), kOutput" << n << ", sizeof(kOutput" << n << ")},\n";
  }
  o << "};\nconst size_t kNumKernelCases = " << cases.size() << ";\n";
  std::ofstream f(argv[1]);
  f << o.str();
  return f.good() ? 0 : 1;
}
