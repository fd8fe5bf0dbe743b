// A fixed-size error message buffer: the core reports *why* a call failed without heap or
// iostream. Define OUTPOST_NO_ERROR_STRINGS to compile the strings out on tiny targets.
#pragma once

#include <stddef.h>

#include "runtime/status.h"

namespace outpost {

class ErrorReporter {
 public:
  static constexpr size_t kCapacity = 160;

  // printf-style subset: %s %d %u %ld %lu %lld %llu %zu %f %%. Returns `s` so callers can write
  // `return reporter.Report(Status::kCorruptModel, "...")`.
  Status Report(Status s, const char* fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 3, 4)))
#endif
      ;

  const char* message() const { return message_; }
  void Clear() { message_[0] = '\0'; }

 private:
  char message_[kCapacity] = {0};
};

}  // namespace outpost

#if defined(OUTPOST_NO_ERROR_STRINGS)
#define OUTPOST_REPORT(reporter, status, ...) (status)
#else
#define OUTPOST_REPORT(reporter, status, ...) ((reporter).Report((status), __VA_ARGS__))
#endif
