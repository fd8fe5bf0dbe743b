// What the AVX-512 and AVX2 int8 ADD kernels share: the reference's prepare, and an eval that
// splits same-shape inputs (residual connections) into chunks for the instruction set's
// `chunks` body and leaves broadcasting adds to the reference.
#pragma once

#include <stdint.h>

#include "runtime/kernel.h"
#include "runtime/kernels/reference/int8_op_data.h"
#include "runtime/kernels/reference/reference_kernels.h"

namespace outpost {
namespace kernels {
namespace x86 {

struct AddJob {
  const int8::BinaryData* d;
  const int8_t* a;
  const int8_t* b;
  int8_t* y;  // may alias a: each element is read before it is written
  int64_t n;
};

constexpr int64_t kAddChunk = 4096;  // elements per ParallelFor index

// Elements [first, last) of chunks [begin, end).
inline void AddChunkRange(const AddJob& j, int64_t begin, int64_t end, int64_t* first,
                          int64_t* last) {
  *first = begin * kAddChunk;
  *last = end * kAddChunk < j.n ? end * kAddChunk : j.n;
}

inline Status PrepareAdd(KernelContext& ctx) { return kAddI8Ref.prepare(ctx); }

inline Status EvalSameShapeAdd(KernelContext& ctx, void (*chunks)(void*, int64_t, int64_t)) {
  const TensorView& y = ctx.output(0);
  const int64_t n = y.num_elements();
  if (ctx.input(0).num_elements() != n || ctx.input(1).num_elements() != n)
    return int8::EvalAdd(ctx);
  AddJob j{ctx.op_data<int8::BinaryData>(), ctx.input(0).as<int8_t>(), ctx.input(1).as<int8_t>(),
           y.as<int8_t>(), n};
  ctx.executor().ParallelFor((n + kAddChunk - 1) / kAddChunk, 1, chunks, &j);
  return Status::kOk;
}

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
