// Population Stability Index: how far a live distribution has moved from a reference one,
// both given as counts over the same bins.
//
//   PSI = sum over bins of (a - e) * ln(a / e)
//
// with e and a the reference's and the live window's share of each bin. An empty bin would make
// the logarithm infinite, so a share below kPsiEpsilon counts as kPsiEpsilon (0.01 % of the
// samples: one value in 10,000; the same floor as common credit-scoring practice).
//
// The conventional reading (Siddiqi, "Credit Risk Scorecards", Wiley 2006, ch. 9; discussed
// with its statistical basis in Yurdakul, "Statistical Properties of Population Stability
// Index", Western Michigan University 2018):
//   PSI < 0.1          stable: no significant change
//   0.1 <= PSI <= 0.25 moderate change: investigate
//   PSI > 0.25         significant change: the model sees data unlike its reference
// Both thresholds assume bins of which most hold a fair share of the reference (deciles, as
// io/model_reference.h makes them, with a few equal-width bins beside) and windows of a few hundred samples or more: on small
// windows sampling noise alone raises PSI (about (bins - 1) / window samples on average).
#pragma once

#include <cstdint>
#include <span>

#include "common/expected.h"

namespace outpost::agent {

inline constexpr double kPsiEpsilon = 1e-4;
inline constexpr double kPsiModerate = 0.1;
inline constexpr double kPsiSignificant = 0.25;

enum class PsiLevel { kStable, kModerate, kSignificant };

// PSI of `actual` against `expected`. Errors when the bin counts differ or either is empty.
Expected<double> Psi(std::span<const uint64_t> expected, std::span<const uint64_t> actual);

PsiLevel ReadPsi(double psi);
const char* PsiLevelName(PsiLevel level);  // "stable", "moderate", "significant"

}  // namespace outpost::agent
