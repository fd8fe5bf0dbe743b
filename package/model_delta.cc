#include "package/model_delta.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "package/delta_body.h"
#include "package/delta_zstd.h"
#include "package/opm_buffers.h"
#include "runtime/model.h"

namespace outpost::package {
namespace {

DeltaInfo ToInfo(const DeltaHeader& h, uint64_t delta_bytes) {
  DeltaInfo i;
  i.format_major = h.format_major;
  i.format_minor = h.format_minor;
  i.base_hash = h.base_hash;
  i.target_hash = h.target_hash;
  i.base_bytes = h.base_bytes;
  i.target_bytes = h.target_bytes;
  i.envelope_bytes = h.envelope_bytes;
  i.body_bytes = h.body_bytes;
  i.compressed_bytes = h.compressed_bytes;
  i.delta_bytes = delta_bytes;
  i.tensors_copied = h.tensors_copied;
  i.tensors_sent = h.tensors_sent;
  i.bytes_copied = h.bytes_copied;
  return i;
}

std::vector<uint8_t> Make(std::span<const uint8_t> old_model, std::span<const uint8_t> new_model,
                          std::span<const uint8_t> envelope, int level) {
  const DeltaLimits defaults;
  if (envelope.size() > defaults.max_envelope_bytes)
    throw Error("delta: envelope of " + std::to_string(envelope.size()) +
                " bytes exceeds the limit of " + std::to_string(defaults.max_envelope_bytes));
  if (new_model.size() > defaults.max_model_bytes)
    throw Error("delta: new model of " + std::to_string(new_model.size()) +
                " bytes exceeds what a reader accepts");
  std::vector<OpmBuffer> old_buffers = ReadVerifiedBuffers(old_model, "old model").value();
  std::vector<OpmBuffer> new_buffers = ReadVerifiedBuffers(new_model, "new model").value();

  // Content address -> where those bytes lie in the old model (the first buffer holding them).
  std::map<Hash256, uint64_t> old_by_hash;
  for (const OpmBuffer& b : old_buffers)
    if (b.size > 0) old_by_hash.emplace(b.hash, b.offset);

  // Walk the new file in offset order: the header, graph section and padding between
  // buffers are literals; each buffer is a copy when the old model holds the same content.
  std::sort(new_buffers.begin(), new_buffers.end(),
            [](const OpmBuffer& a, const OpmBuffer& b) { return a.offset < b.offset; });
  DeltaBodyWriter writer(envelope);
  DeltaHeader h;
  uint64_t cursor = 0;
  for (const OpmBuffer& b : new_buffers) {
    // Empty buffers and buffers overlapping one already emitted add no bytes of their own.
    if (b.size == 0 || b.offset < cursor) continue;
    writer.Literal(new_model.subspan(cursor, b.offset - cursor));
    auto found = old_by_hash.find(b.hash);
    if (found != old_by_hash.end()) {
      writer.Copy(found->second, b.size);
      ++h.tensors_copied;
      h.bytes_copied += b.size;
    } else {
      writer.Literal(new_model.subspan(b.offset, b.size));
      ++h.tensors_sent;
    }
    cursor = b.offset + b.size;
  }
  writer.Literal(new_model.subspan(cursor));
  const std::vector<uint8_t> body = writer.Finish();
  if (body.size() > defaults.max_model_bytes + defaults.max_envelope_bytes)
    throw Error("delta: body of " + std::to_string(body.size()) +
                " bytes exceeds what a reader accepts");

  h.base_hash = Blake2b256(old_model);
  h.target_hash = Blake2b256(new_model);
  h.base_bytes = old_model.size();
  h.target_bytes = new_model.size();
  h.envelope_bytes = envelope.size();
  h.body_bytes = body.size();
  // The old header and graph section: the new graph section mostly repeats it.
  FileHeader old_header;
  std::memcpy(&old_header, old_model.data(), sizeof(old_header));
  h.prefix_bytes = std::min<uint64_t>(old_header.data_offset, old_model.size());
  const std::vector<uint8_t> compressed =
      ZstdCompress(body, level, old_model.first(h.prefix_bytes)).value();
  return AssembleDelta(h, compressed);
}

AppliedDelta Apply(std::span<const uint8_t> old_model, std::span<const uint8_t> delta,
                   const DeltaLimits& limits) {
  const DeltaHeader h = DecodeDeltaHeader(delta).value();
  // The base first: a delta for another model must not cost a decompression.
  if (old_model.size() != h.base_bytes || Blake2b256(old_model) != h.base_hash)
    throw Error("delta: made for another base model (BLAKE2b-256 " + ShortHex(h.base_hash) +
                "..., " + std::to_string(h.base_bytes) + " bytes; this model is " +
                ShortHex(Blake2b256(old_model)) + "..., " + std::to_string(old_model.size()) +
                " bytes)");
  if (h.target_bytes > limits.max_model_bytes)
    throw Error("delta: target model of " + std::to_string(h.target_bytes) +
                " bytes exceeds the limit of " + std::to_string(limits.max_model_bytes));
  if (h.envelope_bytes > limits.max_envelope_bytes)
    throw Error("delta: envelope of " + std::to_string(h.envelope_bytes) +
                " bytes exceeds the limit of " + std::to_string(limits.max_envelope_bytes));
  const uint64_t body_limit = limits.max_model_bytes + limits.max_envelope_bytes;
  if (h.body_bytes > body_limit)
    throw Error("delta: declared body of " + std::to_string(h.body_bytes) +
                " bytes exceeds the limit of " + std::to_string(body_limit));
  if (h.body_bytes < h.envelope_bytes)
    throw Error("delta: declared body is shorter than its envelope");
  if (Blake2b256(delta.subspan(h.header_bytes)) != h.body_hash)
    throw Error("delta: body is corrupt (its hash does not match the header)");

  if (h.prefix_bytes > old_model.size())
    throw Error("delta: compression prefix of " + std::to_string(h.prefix_bytes) +
                " bytes is longer than the base model");
  const std::vector<uint8_t> body =
      ZstdDecompressBounded(delta.subspan(h.header_bytes), h.body_bytes,
                            old_model.first(h.prefix_bytes))
          .value();
  RebuiltTarget t = RunDeltaBody(body, h.envelope_bytes, old_model, h.target_bytes).value();
  if (t.copies != h.tensors_copied || t.bytes_copied != h.bytes_copied)
    throw Error("delta: the body copies " + std::to_string(t.copies) + " tensors (" +
                std::to_string(t.bytes_copied) + " bytes), the header says " +
                std::to_string(h.tensors_copied) + " (" + std::to_string(h.bytes_copied) +
                " bytes)");
  if (Blake2b256(t.model) != h.target_hash)
    throw Error("delta: the rebuilt model does not match the target's BLAKE2b-256 " +
                ShortHex(h.target_hash) + "...");
  AppliedDelta out;
  out.envelope.assign(body.begin(), body.begin() + h.envelope_bytes);
  out.model = std::move(t.model);
  out.info = ToInfo(h, delta.size());
  return out;
}

}  // namespace

Expected<std::vector<uint8_t>> MakeModelDelta(std::span<const uint8_t> old_model,
                                              std::span<const uint8_t> new_model,
                                              std::span<const uint8_t> envelope,
                                              int zstd_level) {
  return Capture([&] { return Make(old_model, new_model, envelope, zstd_level); });
}

Expected<DeltaInfo> ReadModelDeltaInfo(std::span<const uint8_t> delta) {
  return Capture([&] { return ToInfo(DecodeDeltaHeader(delta).value(), delta.size()); });
}

Expected<AppliedDelta> ApplyModelDelta(std::span<const uint8_t> old_model,
                                       std::span<const uint8_t> delta,
                                       const DeltaLimits& limits) {
  return Capture([&] { return Apply(old_model, delta, limits); });
}

}  // namespace outpost::package
