// Steps shared by calibration and the quantization pass.
#pragma once

#include <functional>
#include <string>

#include "compiler/ir/graph.h"
#include "compiler/quantize/quantizer.h"

namespace outpost::quant {

// The float graph in the form the int8 graph is built from. An integer tensor cannot carry a
// fused HARD_SWISH (docs/quantization.md), so each one is split into its producer and a
// separate HARD_SWISH node; the producer then writes NAME_pre_hardswish (NAME: the fused
// output). Calibration runs this form, so the new tensor has statistics too.
ir::Graph PrepareForInt8(const ir::Graph& float_graph);

// Throws Error when `graph` is already (partly) quantized: an int8, uint8 or fp16 tensor, or one
// with quantization parameters. Quantization starts from the float model.
void CheckIsFloatGraph(const ir::Graph& graph);

// Throws Error naming the first float constant holding NaN or Inf (and where).
void CheckFiniteConstants(const ir::Graph& graph);

using KernelQuery = std::function<bool(opm::OpCode, opm::DType)>;
// options.has_kernel, or this build's resolver.
KernelQuery MakeKernelQuery(const QuantizeOptions& options);

// "CONV_2D"
std::string OpName(opm::OpCode op);

}  // namespace outpost::quant
