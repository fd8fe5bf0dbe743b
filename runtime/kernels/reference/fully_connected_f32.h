// The float32 FULLY_CONNECTED reference kernel's prepare and eval, shared with the optimized
// kernels (same validation; fallback for what they do not optimize).
#pragma once

#include "runtime/kernel.h"
#include "runtime/kernels/kernel_util.h"

namespace outpost {
namespace kernels {
namespace ref {

// Written by PrepareFullyConnectedF32 at the start of the operator's op_data.
struct FullyConnectedF32Data {
  FusedActivation act;
};

Status PrepareFullyConnectedF32(KernelContext& ctx);
Status EvalFullyConnectedF32(KernelContext& ctx);

}  // namespace ref
}  // namespace kernels
}  // namespace outpost
