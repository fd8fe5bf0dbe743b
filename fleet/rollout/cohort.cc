#include "fleet/rollout/cohort.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace outpost::fleet {

namespace {

using Rank = std::array<unsigned char, 16>;

Rank RankOf(const std::string& rollout_id, const std::string& device_id) {
  const std::string input = rollout_id + device_id;
  Rank rank{};
  crypto_generichash(rank.data(), rank.size(), reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  return rank;
}

}  // namespace

std::vector<std::string> RankDevices(const std::string& rollout_id,
                                     std::vector<std::string> device_ids) {
  // sodium_init() picks the fastest BLAKE2b for this CPU; it is idempotent and thread-safe,
  // and every implementation gives the same digest.
  static const bool sodium_ready = sodium_init() >= 0;
  (void)sodium_ready;
  std::vector<std::pair<Rank, std::string>> ranked;
  ranked.reserve(device_ids.size());
  for (std::string& id : device_ids) ranked.emplace_back(RankOf(rollout_id, id), std::move(id));
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  out.reserve(ranked.size());
  for (auto& [rank, id] : ranked) out.push_back(std::move(id));
  return out;
}

int64_t CohortSize(double percent, int64_t min_devices, int64_t eligible) {
  if (eligible <= 0) return 0;
  // A small tolerance keeps 10% of 200 at 20 when 10 * 200 / 100 rounds to 20.000000000004.
  const double share = std::ceil(percent / 100.0 * static_cast<double>(eligible) - 1e-9);
  const int64_t n = std::max<int64_t>(static_cast<int64_t>(share), min_devices);
  return std::clamp<int64_t>(n, 0, eligible);
}

std::vector<std::string> SelectCohort(const std::string& rollout_id,
                                      const std::vector<std::string>& eligible, double percent,
                                      int64_t min_devices) {
  std::vector<std::string> ranked = RankDevices(rollout_id, eligible);
  ranked.resize(
      static_cast<size_t>(CohortSize(percent, min_devices, static_cast<int64_t>(ranked.size()))));
  return ranked;
}

}  // namespace outpost::fleet
