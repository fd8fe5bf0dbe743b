// Cohort selection: sizes, determinism, nesting of stages, independence across rollouts.
#include "fleet/rollout/cohort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace outpost::fleet {
namespace {

std::vector<std::string> Devices(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back("d-" + std::to_string(1000 + i));
  return ids;
}

TEST(Cohort, SizeIsTheCeilingOfThePercentAtLeastMinDevices) {
  EXPECT_EQ(CohortSize(1, 1, 200), 2);
  EXPECT_EQ(CohortSize(10, 1, 200), 20);
  EXPECT_EQ(CohortSize(50, 1, 200), 100);
  EXPECT_EQ(CohortSize(100, 1, 200), 200);
  EXPECT_EQ(CohortSize(1, 1, 50), 1);  // 0.5 rounds up
  EXPECT_EQ(CohortSize(1, 0, 50), 1);
  EXPECT_EQ(CohortSize(1, 5, 50), 5);     // min_devices
  EXPECT_EQ(CohortSize(1, 500, 50), 50);  // never more than there are
  EXPECT_EQ(CohortSize(33.3, 1, 3), 1);
  EXPECT_EQ(CohortSize(50, 1, 0), 0);
}

TEST(Cohort, SameInputsSameDevicesWhateverTheOrder) {
  std::vector<std::string> ids = Devices(100);
  const auto a = SelectCohort("r-1", ids, 10, 1);
  std::reverse(ids.begin(), ids.end());
  const auto b = SelectCohort("r-1", ids, 10, 1);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 10u);
}

TEST(Cohort, EachStageContainsThePrevious) {
  const std::vector<std::string> ids = Devices(200);
  std::vector<std::string> previous;
  for (double percent : {1.0, 10.0, 50.0, 100.0}) {
    const auto cohort = SelectCohort("r-abc", ids, percent, 1);
    const std::set<std::string> set(cohort.begin(), cohort.end());
    for (const auto& id : previous)
      EXPECT_TRUE(set.count(id)) << id << " left at " << percent << "%";
    previous = cohort;
  }
  EXPECT_EQ(previous.size(), 200u);
}

TEST(Cohort, DifferentRolloutsDrawDifferentSamples) {
  const std::vector<std::string> ids = Devices(200);
  EXPECT_NE(SelectCohort("r-1", ids, 10, 1), SelectCohort("r-2", ids, 10, 1));
}

TEST(Cohort, RankIsBlake2bOfRolloutAndDeviceId) {
  // Pinned so that a change of hash or concatenation (which would reshuffle running rollouts
  // across a server upgrade) is caught.
  // The order was computed independently: Python's hashlib.blake2b(digest_size=16).
  const std::vector<std::string> expected{"d-c", "d-e", "d-b", "d-d", "d-a", "d-f"};
  EXPECT_EQ(RankDevices("r-0000000000000000", {"d-a", "d-b", "d-c", "d-d", "d-e", "d-f"}),
            expected);
}

}  // namespace
}  // namespace outpost::fleet
