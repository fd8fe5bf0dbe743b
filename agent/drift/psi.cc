// Population Stability Index (agent/drift/psi.h).
#include "agent/drift/psi.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace outpost::agent {

Expected<double> Psi(std::span<const uint64_t> expected, std::span<const uint64_t> actual) {
  if (expected.size() != actual.size())
    return Error("PSI: " + std::to_string(expected.size()) + " reference bins against " +
                 std::to_string(actual.size()) + " live bins");
  double e_total = 0, a_total = 0;
  for (uint64_t c : expected) e_total += static_cast<double>(c);
  for (uint64_t c : actual) a_total += static_cast<double>(c);
  if (e_total == 0 || a_total == 0) return Error("PSI: no samples to compare");
  double psi = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double e = std::max(kPsiEpsilon, static_cast<double>(expected[i]) / e_total);
    const double a = std::max(kPsiEpsilon, static_cast<double>(actual[i]) / a_total);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

PsiLevel ReadPsi(double psi) {
  if (psi > kPsiSignificant) return PsiLevel::kSignificant;
  if (psi >= kPsiModerate) return PsiLevel::kModerate;
  return PsiLevel::kStable;
}

const char* PsiLevelName(PsiLevel level) {
  switch (level) {
    case PsiLevel::kStable: return "stable";
    case PsiLevel::kModerate: return "moderate";
    case PsiLevel::kSignificant: return "significant";
  }
  return "stable";
}

}  // namespace outpost::agent
