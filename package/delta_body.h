// The decompressed body of a model delta: the envelope, then instructions that rebuild the
// target model from the base (docs/delta-format.md).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/expected.h"

namespace outpost::package {

enum class DeltaOp : uint8_t {
  kCopy = 1,     // u64 base offset, u64 length: bytes of the base model
  kLiteral = 2,  // u64 length, then that many bytes
};
constexpr size_t kCopyInstructionBytes = 1 + 8 + 8;
constexpr size_t kLiteralInstructionBytes = 1 + 8;

// Appends instructions to a body; adjacent literals are merged into one.
class DeltaBodyWriter {
 public:
  explicit DeltaBodyWriter(std::span<const uint8_t> envelope);
  void Copy(uint64_t base_offset, uint64_t length);
  void Literal(std::span<const uint8_t> bytes);
  std::vector<uint8_t> Finish();

 private:
  void FlushLiteral();
  std::vector<uint8_t> body_;
  std::vector<uint8_t> pending_;
};

struct RebuiltTarget {
  std::vector<uint8_t> model;
  uint32_t copies = 0;
  uint64_t bytes_copied = 0;
};

// Runs the instructions after the first `envelope_bytes` bytes of `body` against `base`.
// Every instruction is bounds-checked against the body, the base and `target_bytes`.
Expected<RebuiltTarget> RunDeltaBody(std::span<const uint8_t> body, uint64_t envelope_bytes,
                                     std::span<const uint8_t> base, uint64_t target_bytes);

}  // namespace outpost::package
