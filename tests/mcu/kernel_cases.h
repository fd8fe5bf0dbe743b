// The cases of cortex_m_kernels_fw, written by the host program tests/mcu/kernel_cases: one
// single-operator int8 model each, its input, and the output the host's kernels give for it.
#pragma once

#include <stddef.h>

struct KernelCase {
  const char* name;
  const unsigned char* model;
  size_t model_bytes;
  const unsigned char* input;
  size_t input_bytes;
  const unsigned char* output;
  size_t output_bytes;
};

extern const KernelCase kKernelCases[];
extern const size_t kNumKernelCases;
