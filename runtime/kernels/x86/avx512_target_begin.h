// Compiles the functions that follow, up to avx512_target_end.h, for AVX-512 (F, BW, DQ, VL)
// with AVX2 and FMA, and PREFETCHW (which every AVX-512 CPU has: _mm_prefetch(p, _MM_HINT_ET0)
// becomes it); the rest of the build stays baseline x86-64, and the resolver calls these
// kernels only on CPUs that have the features. Include after the other headers of the file
// (their inline functions must stay baseline) and before the AVX-512 code.
// Deliberately no include guard: each file that includes it opens its own region.
#if defined(__clang__)
// clang-format off
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,prfchw"))), apply_to = function)
// clang-format on
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,prfchw")
// GCC 12's own AVX-512 headers trip this warning (an intentionally undefined register in
// _mm512_set1_ps and friends); it is not about the kernels' code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
