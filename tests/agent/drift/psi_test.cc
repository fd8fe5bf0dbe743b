// PSI on hand-computed cases, its empty-bin floor, and the conventional reading.
#include "agent/drift/psi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace outpost::agent {
namespace {

TEST(Psi, IdenticalDistributionsGiveZero) {
  const std::vector<uint64_t> e = {10, 20, 30, 40};
  EXPECT_DOUBLE_EQ(Psi(e, e).value(), 0.0);
  // Only the shares matter, not the sample counts.
  const std::vector<uint64_t> a = {100, 200, 300, 400};
  EXPECT_NEAR(Psi(e, a).value(), 0.0, 1e-15);
}

TEST(Psi, MatchesTheFormula) {
  // (0.9 - 0.5) ln(0.9 / 0.5) + (0.1 - 0.5) ln(0.1 / 0.5)
  const double want = 0.4 * std::log(1.8) + (-0.4) * std::log(0.2);
  EXPECT_NEAR(Psi(std::vector<uint64_t>{50, 50}, std::vector<uint64_t>{90, 10}).value(), want,
              1e-12);
  EXPECT_NEAR(want, 0.8789, 1e-4);
}

TEST(Psi, EmptyBinsUseTheEpsilonFloor) {
  const std::vector<uint64_t> e = {100, 0}, a = {50, 50};
  const double want = (0.5 - 1.0) * std::log(0.5 / 1.0) +
                      (0.5 - kPsiEpsilon) * std::log(0.5 / kPsiEpsilon);
  const double got = Psi(e, a).value();
  EXPECT_TRUE(std::isfinite(got));
  EXPECT_NEAR(got, want, 1e-12);
  // Symmetric in its two arguments.
  EXPECT_NEAR(Psi(a, e).value(), got, 1e-12);
}

TEST(Psi, RefusesMismatchedOrEmptyHistograms) {
  Expected<double> bins = Psi(std::vector<uint64_t>{1, 2}, std::vector<uint64_t>{1, 2, 3});
  ASSERT_FALSE(bins.ok());
  EXPECT_EQ(bins.message(), "PSI: 2 reference bins against 3 live bins");
  Expected<double> empty = Psi(std::vector<uint64_t>{1, 2}, std::vector<uint64_t>{0, 0});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.message(), "PSI: no samples to compare");
}

TEST(Psi, ConventionalReading) {
  EXPECT_EQ(ReadPsi(0.0), PsiLevel::kStable);
  EXPECT_EQ(ReadPsi(0.099), PsiLevel::kStable);
  EXPECT_EQ(ReadPsi(0.1), PsiLevel::kModerate);
  EXPECT_EQ(ReadPsi(0.25), PsiLevel::kModerate);
  EXPECT_EQ(ReadPsi(0.2501), PsiLevel::kSignificant);
  EXPECT_STREQ(PsiLevelName(PsiLevel::kSignificant), "significant");
}

}  // namespace
}  // namespace outpost::agent
