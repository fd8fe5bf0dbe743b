// Number formatting shared by the Advisor's reports (plan, decide, cost): one printf-style
// value, and byte counts in binary units.
#pragma once

#include <string>

namespace outpost::advisor {

// `fmt` holds one floating-point conversion, e.g. "%.1f ms".
std::string FormatValue(const char* fmt, double v);

// 512 B, 3.4 KiB, 1.2 MiB, 2.0 GiB.
std::string FormatBinaryBytes(double bytes);

}  // namespace outpost::advisor
