#include "fleet/server/delta_cache.h"

#include <cstdio>

#include "fleet/server/api_error.h"
#include "io/mapped_file.h"
#include "package/package_delta.h"

namespace outpost::fleet {

std::optional<Delta> DeltaCache::Get(const std::string& base, const std::string& target) {
  const auto key = std::make_pair(base, target);
  std::shared_ptr<std::mutex> pair_lock;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_.count(key)) return std::nullopt;
    auto& slot = pair_locks_[key];
    if (!slot) slot = std::make_shared<std::mutex>();
    pair_lock = slot;
  }
  std::lock_guard<std::mutex> lock(*pair_lock);
  std::optional<Delta> known = StoreValue(store_.FindDelta(base, target), "looking up a delta");
  if (known && artifacts_.Exists(ArtifactKind::kDelta, known->digest)) return known;
  std::optional<Delta> made = Compute(base, target);
  if (!made) {
    std::lock_guard<std::mutex> l(mu_);
    failed_.insert(key);
  }
  return made;
}

std::optional<Delta> DeltaCache::Compute(const std::string& base, const std::string& target) {
  Expected<io::MappedFile> old_file = io::MappedFile::Open(artifacts_.PathOf(ArtifactKind::kPackage, base));
  Expected<io::MappedFile> new_file = io::MappedFile::Open(artifacts_.PathOf(ArtifactKind::kPackage, target));
  if (!old_file.ok() || !new_file.ok()) return std::nullopt;
  Expected<std::vector<uint8_t>> bytes = package::MakePackageDelta(old_file->bytes(), new_file->bytes(), signing_key_);
  if (!bytes.ok()) {
    std::fprintf(stderr, "fleet server: no delta %s -> %s: %s\n", base.c_str(), target.c_str(), bytes.message().c_str());
    return std::nullopt;
  }
  Expected<std::string> digest = artifacts_.Put(ArtifactKind::kDelta, *bytes);
  if (!digest.ok()) {
    std::fprintf(stderr, "fleet server: %s\n", digest.message().c_str());
    return std::nullopt;
  }
  Delta d;
  d.base_digest = base;
  d.target_digest = target;
  d.digest = *digest;
  d.size = static_cast<int64_t>(bytes->size());
  d.created_ms = clock_();
  // The store keeps the first record of a pair; the file it names exists (same bytes).
  return StoreValue(store_.AddDelta(d), "recording a delta");
}

}  // namespace outpost::fleet
