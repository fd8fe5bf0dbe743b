// Which devices a rollout stage takes. Each eligible device gets a rank from
// BLAKE2b(rollout id + device id), and a stage takes the first ceil(percent% of N) devices
// by rank (at least min_devices). The order is a pure function of the ids, so:
//  - a later stage's cohort holds the earlier stage's (same order, a longer prefix);
//  - two server processes sharing one database choose the same devices;
//  - each rollout draws a different sample, so the same unlucky devices are not always first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace outpost::fleet {

// The devices in rank order (ties, which need a hash collision, by id).
std::vector<std::string> RankDevices(const std::string& rollout_id,
                                     std::vector<std::string> device_ids);

// How many of `eligible` devices a stage takes: ceil(percent / 100 * eligible), at least
// `min_devices`, at most `eligible`.
int64_t CohortSize(double percent, int64_t min_devices, int64_t eligible);

// The stage's cohort: the first CohortSize(...) of RankDevices(...).
std::vector<std::string> SelectCohort(const std::string& rollout_id,
                                      const std::vector<std::string>& eligible, double percent,
                                      int64_t min_devices);

}  // namespace outpost::fleet
