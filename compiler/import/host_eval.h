// A small evaluator for constant tensors of any runtime dtype, used at import time.
//
// The runtime's kernels compute in FLOAT32 (and move bytes of any dtype), but ONNX shape
// arithmetic runs on INT64/INT32/BOOL tensors: Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape. Those values must be known while importing, so the importer evaluates them here.
// Float arithmetic is done in double and rounded once, which for + - * / gives exactly the
// float32 result the runtime computes.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir/graph.h"

namespace outpost::import::host {

using Shape = std::vector<int64_t>;

// Element values converted to int64 (floats truncate toward zero) or to double.
std::vector<int64_t> ToInts(const ir::Tensor& t);
std::vector<double> ToDoubles(const ir::Tensor& t);
// A constant of dtype `dt` holding `v` converted element by element.
ir::Tensor FromInts(ir::DType dt, Shape shape, const std::vector<int64_t>& v);
ir::Tensor FromDoubles(ir::DType dt, Shape shape, const std::vector<double>& v);

// For each element of `out` (row-major), the flat index of the element of `in` it reads when
// `in` is broadcast to `out` (NumPy rules).
std::vector<int64_t> BroadcastIndex(const Shape& in, const Shape& out);
// A tensor of `shape` whose element e is element index[e] of `src` (bytes copied).
ir::Tensor Take(const ir::Tensor& src, Shape shape, const std::vector<int64_t>& index);

// ADD, SUB, MUL, DIV with broadcasting. Integer division truncates toward zero (as ONNX
// runtimes do) and refuses a zero divisor.
ir::Tensor Binary(ir::OpCode op, const ir::Tensor& a, const ir::Tensor& b);
ir::Tensor Equal(const ir::Tensor& a, const ir::Tensor& b);
ir::Tensor Where(const ir::Tensor& cond, const ir::Tensor& x, const ir::Tensor& y);
ir::Tensor Cast(const ir::Tensor& t, ir::DType to);

ir::Tensor Transpose(const ir::Tensor& t, const std::vector<int>& perm);
// Per axis: first index and step; `out` gives the element counts.
ir::Tensor Slice(const ir::Tensor& t, const std::vector<int64_t>& starts,
                 const std::vector<int64_t>& steps, const Shape& out);
ir::Tensor Concat(const std::vector<const ir::Tensor*>& parts, int axis);
// `indices` are already in [0, dim).
ir::Tensor Gather(const ir::Tensor& data, const std::vector<int64_t>& indices,
                  const Shape& indices_shape, int axis);
ir::Tensor Expand(const ir::Tensor& t, const Shape& out);

// Evaluates `node` when its opcode is data movement (RESHAPE, TRANSPOSE, SLICE, CONCAT, SPLIT)
// or arithmetic without a fused activation (ADD, SUB, MUL, DIV), for any dtype. Returns false
// for other nodes, which the caller evaluates with the runtime's kernels.
bool Fold(const ir::Graph& graph, const ir::Node& node, std::vector<ir::Tensor>* outputs);

}  // namespace outpost::import::host
