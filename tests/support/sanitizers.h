// Whether this test program is built with AddressSanitizer, for the few tests that shrink their
// work under it (a sanitized run is several times slower and has its own time budget). GCC
// defines __SANITIZE_ADDRESS__; clang 14, which the `asan` preset uses, only answers
// __has_feature.
#pragma once

namespace outpost::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace outpost::testing
