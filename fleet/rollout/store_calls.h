// How the rollout and alert logic call the fleet store: a failed call throws its Error, which
// the public functions turn back into an Expected (Capture), and device lists are read page by
// page so that a large fleet is never one unbounded query.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "common/expected.h"
#include "fleet/store/fleet_store.h"

namespace outpost::fleet {

template <typename T>
T Take(Expected<T> result) {
  return std::move(result).value();  // rethrows the store's Error
}

// Every device that matches `filter` (its limit and offset are replaced).
inline std::vector<Device> AllDevices(FleetStore& store, DeviceFilter filter) {
  constexpr int64_t kPage = 1000;
  std::vector<Device> all;
  filter.limit = kPage;
  filter.offset = 0;
  for (;;) {
    std::vector<Device> page = Take(store.ListDevices(filter));
    const bool last = static_cast<int64_t>(page.size()) < kPage;
    for (Device& d : page) all.push_back(std::move(d));
    if (last) return all;
    filter.offset += kPage;
  }
}

}  // namespace outpost::fleet
