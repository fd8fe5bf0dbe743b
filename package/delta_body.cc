#include "package/delta_body.h"

#include <algorithm>
#include <string>

namespace outpost::package {
namespace {

void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

Error Fail(uint64_t at, const std::string& why) {
  return Error("delta: instruction at body offset " + std::to_string(at) + ": " + why);
}

}  // namespace

DeltaBodyWriter::DeltaBodyWriter(std::span<const uint8_t> envelope)
    : body_(envelope.begin(), envelope.end()) {}

void DeltaBodyWriter::Copy(uint64_t base_offset, uint64_t length) {
  if (length == 0) return;
  FlushLiteral();
  body_.push_back(static_cast<uint8_t>(DeltaOp::kCopy));
  PutU64(body_, base_offset);
  PutU64(body_, length);
}

void DeltaBodyWriter::Literal(std::span<const uint8_t> bytes) {
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
}

void DeltaBodyWriter::FlushLiteral() {
  if (pending_.empty()) return;
  body_.push_back(static_cast<uint8_t>(DeltaOp::kLiteral));
  PutU64(body_, pending_.size());
  body_.insert(body_.end(), pending_.begin(), pending_.end());
  pending_.clear();
}

std::vector<uint8_t> DeltaBodyWriter::Finish() {
  FlushLiteral();
  return std::move(body_);
}

Expected<RebuiltTarget> RunDeltaBody(std::span<const uint8_t> body, uint64_t envelope_bytes,
                                     std::span<const uint8_t> base, uint64_t target_bytes) {
  if (envelope_bytes > body.size())
    return Error("delta: the envelope (" + std::to_string(envelope_bytes) +
                 " bytes) is longer than the body");
  RebuiltTarget t;
  // Reserve only what the bytes at hand can produce, not what an untrusted header claims.
  t.model.reserve(std::min<uint64_t>(target_bytes, body.size() + base.size()));
  uint64_t at = envelope_bytes;
  while (at < body.size()) {
    const uint64_t start = at;
    const uint8_t op = body[at++];
    const uint64_t left = body.size() - at;
    const uint64_t room = target_bytes - t.model.size();
    if (op == static_cast<uint8_t>(DeltaOp::kCopy)) {
      if (left < 16) return Fail(start, "truncated copy");
      const uint64_t from = GetU64(&body[at]), length = GetU64(&body[at + 8]);
      at += 16;
      if (length == 0) return Fail(start, "empty copy");
      if (from > base.size() || length > base.size() - from)
        return Fail(start, "copy of " + std::to_string(length) + " bytes at " +
                               std::to_string(from) + " lies outside the " +
                               std::to_string(base.size()) + "-byte base model");
      if (length > room) return Fail(start, "copy runs past the end of the target model");
      t.model.insert(t.model.end(), base.begin() + from, base.begin() + from + length);
      ++t.copies;
      t.bytes_copied += length;
    } else if (op == static_cast<uint8_t>(DeltaOp::kLiteral)) {
      if (left < 8) return Fail(start, "truncated literal");
      const uint64_t length = GetU64(&body[at]);
      at += 8;
      if (length == 0) return Fail(start, "empty literal");
      if (length > body.size() - at) return Fail(start, "literal runs past the end of the body");
      if (length > room) return Fail(start, "literal runs past the end of the target model");
      t.model.insert(t.model.end(), body.begin() + at, body.begin() + at + length);
      at += length;
    } else {
      return Fail(start, "unknown instruction " + std::to_string(op));
    }
  }
  if (t.model.size() != target_bytes)
    return Error("delta: the instructions rebuild " + std::to_string(t.model.size()) +
                 " bytes, the target model has " + std::to_string(target_bytes));
  return t;
}

}  // namespace outpost::package
