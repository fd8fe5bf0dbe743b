// Compiles the functions that follow, up to avx2_target_end.h, for AVX2 and FMA; the rest of
// the build stays baseline x86-64, and the resolver calls these kernels only on CPUs that have
// the features. Include after the other headers of the file (their inline functions must stay
// baseline) and before the AVX2 code.
// Deliberately no include guard: each file that includes it opens its own region.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
