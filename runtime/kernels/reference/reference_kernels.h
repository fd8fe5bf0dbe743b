// The reference kernels: portable C++, the specification every optimized kernel is tested
// against. One registration per (op, dtype); the list below is the single source of truth for
// the resolver, the kernel tests and the benchmarks.
#pragma once

#include <stddef.h>

#include "runtime/kernel.h"

namespace outpost {
namespace kernels {

// X(NAME, DTYPE_SUFFIX) for every reference kernel. Suffixes: F32, F16, I8, U8, I16, I32, I64,
// Bool. The data-movement kernels (Concat ... Slice) move bytes and are registered for every
// dtype but INT8 CONCAT, which requantizes (QuantizedConcat). The I8 compute kernels implement
// the integer scheme of docs/quantization.md.
#define OUTPOST_REFERENCE_KERNELS(X) \
  X(Relu, F32)                       \
  X(LeakyRelu, F32)                  \
  X(Clip, F32)                       \
  X(Sigmoid, F32)                    \
  X(Tanh, F32)                       \
  X(HardSigmoid, F32)                \
  X(HardSwish, F32)                  \
  X(Add, F32)                        \
  X(Sub, F32)                        \
  X(Mul, F32)                        \
  X(Div, F32)                        \
  X(PRelu, F32)                      \
  X(Conv2D, F32)                     \
  X(ConvTranspose2D, F32)            \
  X(FullyConnected, F32)             \
  X(MatMul, F32)                     \
  X(Softmax, F32)                    \
  X(MaxPool2D, F32)                  \
  X(AveragePool2D, F32)              \
  X(GlobalAveragePool, F32)          \
  X(GlobalMaxPool, F32)              \
  X(Resize, F32)                     \
  X(ReduceMean, F32)                 \
  X(Relu, I8)                        \
  X(LeakyRelu, I8)                   \
  X(Clip, I8)                        \
  X(Sigmoid, I8)                     \
  X(Tanh, I8)                        \
  X(HardSigmoid, I8)                 \
  X(HardSwish, I8)                   \
  X(Add, I8)                         \
  X(Sub, I8)                         \
  X(Mul, I8)                         \
  X(Conv2D, I8)                      \
  X(FullyConnected, I8)              \
  X(MatMul, I8)                      \
  X(Softmax, I8)                     \
  X(MaxPool2D, I8)                   \
  X(AveragePool2D, I8)               \
  X(GlobalAveragePool, I8)           \
  X(GlobalMaxPool, I8)               \
  X(QuantizedConcat, I8)             \
  X(Quantize, F32)                   \
  X(Quantize, I8)                    \
  X(Quantize, U8)                    \
  X(Dequantize, I8)                  \
  X(Dequantize, U8)                  \
  X(Dequantize, I32)                 \
  X(Dequantize, F16)                 \
  X(Concat, F32)                     \
  X(Concat, U8)                      \
  X(Concat, I32)                     \
  X(Concat, I64)                     \
  X(Concat, I16)                     \
  X(Concat, Bool)                    \
  X(Split, F32)                      \
  X(Split, I8)                       \
  X(Split, U8)                       \
  X(Split, I32)                      \
  X(Split, I64)                      \
  X(Split, I16)                      \
  X(Split, Bool)                     \
  X(Reshape, F32)                    \
  X(Reshape, I8)                     \
  X(Reshape, U8)                     \
  X(Reshape, I32)                    \
  X(Reshape, I64)                    \
  X(Reshape, I16)                    \
  X(Reshape, Bool)                   \
  X(Transpose, F32)                  \
  X(Transpose, I8)                   \
  X(Transpose, U8)                   \
  X(Transpose, I32)                  \
  X(Transpose, I64)                  \
  X(Transpose, I16)                  \
  X(Transpose, Bool)                 \
  X(Pad, F32)                        \
  X(Pad, I8)                         \
  X(Pad, U8)                         \
  X(Pad, I32)                        \
  X(Pad, I64)                        \
  X(Pad, I16)                        \
  X(Pad, Bool)                       \
  X(Slice, F32)                      \
  X(Slice, I8)                       \
  X(Slice, U8)                       \
  X(Slice, I32)                      \
  X(Slice, I64)                      \
  X(Slice, I16)                      \
  X(Slice, Bool)

#define OUTPOST_DECLARE_KERNEL(NAME, DT) extern const KernelRegistration k##NAME##DT##Ref;
OUTPOST_REFERENCE_KERNELS(OUTPOST_DECLARE_KERNEL)
#undef OUTPOST_DECLARE_KERNEL

// All reference kernels, in the order above.
const KernelRegistration* const* ReferenceKernels(size_t* count);

}  // namespace kernels
}  // namespace outpost
