#include "runtime/error_reporter.h"

#include <stdarg.h>
#include <stdint.h>

namespace outpost {
namespace {

// Appends to a bounded buffer; silently truncates.
struct Sink {
  char* buf;
  size_t cap;
  size_t len;
  void Put(char c) {
    if (len + 1 < cap) buf[len++] = c;
  }
  void Str(const char* s) {
    if (s == nullptr) s = "(null)";
    while (*s) Put(*s++);
  }
  // v / 10 with shifts and adds (Hacker's Delight, divu10): a 64-bit `/ 10` on a 32-bit core
  // calls the library's 700-byte 64-bit division routine.
  static unsigned long long DivideBy10(unsigned long long v) {
    unsigned long long q = (v >> 1) + (v >> 2);
    q += q >> 4;
    q += q >> 8;
    q += q >> 16;
    q += q >> 32;
    q >>= 3;
    const unsigned long long r = v - q * 10;
    return q + (r > 9 ? 1 : 0);
  }
  void Unsigned(unsigned long long v) {
    char tmp[24];
    int n = 0;
    do {
      const unsigned long long q = DivideBy10(v);
      tmp[n++] = static_cast<char>('0' + (v - q * 10));
      v = q;
    } while (v != 0);
    while (n > 0) Put(tmp[--n]);
  }
  void Signed(long long v) {
    if (v < 0) {
      Put('-');
      Unsigned(0ULL - static_cast<unsigned long long>(v));
    } else {
      Unsigned(static_cast<unsigned long long>(v));
    }
  }
};

}  // namespace

const char* StatusName(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kInvalidArgument: return "invalid argument";
    case Status::kCorruptModel: return "corrupt model";
    case Status::kUnsupported: return "unsupported";
    case Status::kArenaTooSmall: return "arena too small";
    case Status::kShapeMismatch: return "shape mismatch";
    case Status::kNotReady: return "not ready";
    case Status::kInternal: return "internal error";
  }
  return "unknown status";
}

// A deliberately tiny formatter: vsnprintf drags float formatting and sometimes malloc into
// bare-metal images.
Status ErrorReporter::Report(Status s, const char* fmt, ...) {
  Sink out{message_, kCapacity, 0};
  va_list ap;
  va_start(ap, fmt);
  for (const char* p = fmt; *p; ++p) {
    if (*p != '%') {
      out.Put(*p);
      continue;
    }
    ++p;
    int longs = 0;
    bool size_t_arg = false;
    while (*p == 'l') {
      ++longs;
      ++p;
    }
    if (*p == 'z') {
      size_t_arg = true;
      ++p;
    }
    switch (*p) {
      case 's': out.Str(va_arg(ap, const char*)); break;
      case 'd':
        if (longs >= 2) out.Signed(va_arg(ap, long long));
        else if (longs == 1) out.Signed(va_arg(ap, long));
        else out.Signed(va_arg(ap, int));
        break;
      case 'u':
        if (size_t_arg) out.Unsigned(va_arg(ap, size_t));
        else if (longs >= 2) out.Unsigned(va_arg(ap, unsigned long long));
        else if (longs == 1) out.Unsigned(va_arg(ap, unsigned long));
        else out.Unsigned(va_arg(ap, unsigned int));
        break;
      case '%': out.Put('%'); break;
      case '\0': --p; break;
      default: out.Put('?'); break;
    }
  }
  va_end(ap);
  message_[out.len] = '\0';
  return s;
}

}  // namespace outpost
