#include "advisor/text_format.h"

#include <cstdio>

namespace outpost::advisor {

std::string FormatValue(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string FormatBinaryBytes(double b) {
  if (b >= 1024.0 * 1024 * 1024) return FormatValue("%.1f GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return FormatValue("%.1f MiB", b / (1024.0 * 1024));
  if (b >= 1024.0) return FormatValue("%.1f KiB", b / 1024.0);
  return FormatValue("%.0f B", b);
}

}  // namespace outpost::advisor
