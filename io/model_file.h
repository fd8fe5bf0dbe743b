// A .opm model loaded from disk: the memory-mapped bytes plus the runtime's verified view of
// them. Loading runs the runtime's own verifier (the trust boundary), so everything the host
// reads through `fb()` afterwards is known to be in range.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"
#include "io/mapped_file.h"
#include "runtime/model.h"

namespace outpost::io {

class LoadedModel {
 public:
  // Maps and verifies `path`. Errors carry the runtime's reason, prefixed with the path.
  static Expected<LoadedModel> Open(const std::string& path);
  // Verifies model bytes already in memory (copied into 64-byte aligned storage); `name` is
  // used in messages in place of a path.
  static Expected<LoadedModel> FromBytes(const std::string& name, std::span<const uint8_t> bytes);

  LoadedModel(LoadedModel&&) noexcept = default;
  LoadedModel& operator=(LoadedModel&&) noexcept = default;

  const Model& model() const { return model_; }
  const opm::Model& fb() const { return *model_.fb(); }
  const std::string& path() const { return path_; }
  size_t file_size() const { return model_.size(); }

  // Recomputes the BLAKE2b-256 hash of every constant buffer and compares it with the stored
  // one. Returns how many buffers were checked; a mismatch is an Error naming the tensor.
  Expected<size_t> VerifyContentHashes() const;

  // Name of tensor `index` ("tensor N" when the model stores none).
  std::string TensorName(int index) const;

 private:
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };
  LoadedModel() = default;
  static Expected<LoadedModel> Verify(LoadedModel m, const uint8_t* data, size_t size);

  std::string path_;
  std::optional<MappedFile> mapping_;
  std::unique_ptr<uint8_t, FreeDeleter> heap_;
  Model model_;
};

}  // namespace outpost::io
