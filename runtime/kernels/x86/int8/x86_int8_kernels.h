// The x86-64 int8 kernels: AVX-512 VNNI, and AVX2 for CONV_2D, FULLY_CONNECTED, ADD and
// QUANTIZE on CPUs without AVX-512. Each is bit-exact with the reference kernel of the same op and
// falls back to it for what it does not accelerate (weights with zero points, broadcasting adds,
// per-axis or UINT8 QUANTIZE outputs).
#pragma once

#include <stddef.h>

#include "runtime/cpu_features.h"
#include "runtime/kernel.h"

namespace outpost {
namespace kernels {
namespace x86 {

extern const KernelRegistration kConv2DI8Avx2;
extern const KernelRegistration kFullyConnectedI8Avx2;
extern const KernelRegistration kAddI8Avx2;
extern const KernelRegistration kQuantizeF32ToI8Avx2;
extern const KernelRegistration kAddI8Avx512Vnni;
extern const KernelRegistration kConv2DI8Avx512Vnni;
extern const KernelRegistration kConv2DI8Avx512Vbmi;
extern const KernelRegistration kFullyConnectedI8Avx512Vnni;
extern const KernelRegistration kGlobalAveragePoolI8Avx512;
extern const KernelRegistration kMaxPool2DI8Avx512;
extern const KernelRegistration kQuantizeF32ToI8Avx512;

// All of them, to register after the reference kernels; AVX2 before AVX-512 VNNI before
// AVX-512 VBMI, so that the resolver (the last registration the CPU supports wins) prefers the
// widest instruction set present.
const KernelRegistration* const* Int8Kernels(size_t* count);

}  // namespace x86
}  // namespace kernels
}  // namespace outpost
