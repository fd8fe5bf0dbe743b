// Content-addressed files under the data directory: packages in artifacts/, deltas in deltas/,
// each named by the BLAKE2b-256 hex digest of its bytes. A file is written to tmp/, fsynced and
// renamed into place, so a reader never sees a partial file and two writers of the same
// content (two servers computing the same delta) leave one correct file.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <span>
#include <string>

#include "common/expected.h"

namespace outpost::fleet {

enum class ArtifactKind { kPackage, kDelta };

class ArtifactStore {
 public:
  // Creates data_dir/{artifacts,deltas,tmp} as needed.
  static Expected<ArtifactStore> Open(const std::string& data_dir);

  std::string PathOf(ArtifactKind kind, const std::string& digest) const;
  bool Exists(ArtifactKind kind, const std::string& digest) const;

  // A file being written: bytes are hashed as they arrive. Removed unless committed.
  class Writer {
   public:
    Writer(Writer&& other) noexcept;
    Writer& operator=(Writer&&) = delete;
    ~Writer();
    Expected<Unit> Append(const void* data, size_t n);
    // Flushes and fsyncs; the digest of everything appended. Call once.
    Expected<std::string> Finish();
    const std::string& temp_path() const { return path_; }
    int64_t size() const { return size_; }

   private:
    friend class ArtifactStore;
    Writer(std::string path, int fd);
    std::string path_;
    int fd_ = -1;
    int64_t size_ = 0;
    bool committed_ = false;
    crypto_generichash_state hash_{};
  };

  Expected<Writer> NewWriter() const;
  // Renames a finished writer's file to kind/<digest> (replacing an identical file is harmless)
  // and fsyncs the directory.
  Expected<Unit> Commit(Writer& writer, ArtifactKind kind, const std::string& digest) const;
  // Writes whole bytes; returns their digest.
  Expected<std::string> Put(ArtifactKind kind, std::span<const uint8_t> bytes) const;

 private:
  explicit ArtifactStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace outpost::fleet
