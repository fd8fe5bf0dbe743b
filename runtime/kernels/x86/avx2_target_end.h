// Closes the region avx2_target_begin.h opened. No include guard, as for the begin header.
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
