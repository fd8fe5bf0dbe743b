// Files in and out: a read-only memory map (how models are loaded: zero copy, and the mapping is
// page-aligned, hence 64-byte aligned as the runtime wants), and an atomic whole-file write that
// never leaves a partial file behind.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace outpost::io {

class MappedFile {
 public:
  // Maps `path` read-only. Fails with a message naming the path when it is missing, a
  // directory, not a regular file, empty or unreadable.
  static Expected<MappedFile> Open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // Page-aligned (so at least 64-byte aligned); valid while this object lives. Moving the
  // object does not move the mapping.
  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data(), size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  void Reset();

  void* addr_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Writes `bytes` to `path` atomically: a temporary file in the same directory is written,
// fsynced and renamed over `path`, then the directory is fsynced. On any failure (no space,
// no permission, ...) the temporary file is removed, `path` is untouched, and the Error says
// why.
Expected<Unit> WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes);
Expected<Unit> WriteFileAtomic(const std::string& path, std::string_view text);

// Reads a whole (small) file, e.g. a label list. Same errors as MappedFile::Open.
Expected<std::string> ReadTextFile(const std::string& path);

}  // namespace outpost::io
