// Deltas between two registered packages, computed once per (base, target) pair with
// package/package_delta.h at the first poll that needs one, stored content-addressed and
// recorded in the store. Concurrent first requests for one pair in this process wait for a
// single computation; across servers each computes, writes temp + rename, and the store keeps
// the first record (zstd is deterministic, so both files are the same bytes anyway).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "fleet/server/artifact_store.h"
#include "fleet/store/fleet_store.h"
#include "package/keys.h"

namespace outpost::fleet {

class DeltaCache {
 public:
  DeltaCache(FleetStore& store, const ArtifactStore& artifacts, const package::Key& signing_key,
             std::function<int64_t()> clock)
      : store_(store), artifacts_(artifacts), signing_key_(signing_key), clock_(std::move(clock)) {}

  // The delta from `base` to `target` (package digests), computing it when needed. None when
  // it cannot be made (e.g. an encrypted package: the server holds no decryption key); the
  // device then downloads the whole package.
  std::optional<Delta> Get(const std::string& base, const std::string& target);

 private:
  std::optional<Delta> Compute(const std::string& base, const std::string& target);

  FleetStore& store_;
  const ArtifactStore& artifacts_;
  const package::Key& signing_key_;
  std::function<int64_t()> clock_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<std::mutex>> pair_locks_;
  std::set<std::pair<std::string, std::string>> failed_;  // not retried by this process
};

}  // namespace outpost::fleet
