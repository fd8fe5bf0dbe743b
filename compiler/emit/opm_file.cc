#include "compiler/emit/opm_file.h"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

#include "runtime/model.h"

namespace outpost::emit {
namespace {

size_t AlignUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

// A constant this small is never worth a bitmap: the saving is below a cache line.
constexpr size_t kMinSparseElements = 256;

}  // namespace

std::vector<uint8_t> EncodeSparseBitmap(const std::vector<uint8_t>& dense, size_t element_size) {
  const size_t n = dense.size() / element_size;
  std::vector<uint8_t> out(static_cast<size_t>(SparseBitmapBytes(n, element_size)), 0);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* e = dense.data() + i * element_size;
    bool zero = true;
    for (size_t k = 0; k < element_size; ++k) zero = zero && e[k] == 0;
    if (zero) continue;
    out[i / 8] = static_cast<uint8_t>(out[i / 8] | (1u << (i % 8)));
    out.insert(out.end(), e, e + element_size);
  }
  return out;
}

std::vector<uint8_t> ContentHash(const uint8_t* data, size_t size) {
  std::vector<uint8_t> h(32);
  crypto_generichash(h.data(), h.size(), data, size, nullptr, 0);
  return h;
}

std::vector<uint8_t> WriteOpmBytes(opm::ModelT model,
                                   const std::vector<std::vector<uint8_t>>& dense_payloads,
                                   bool sparse_storage) {
  model.format_minor = kFormatMinor;
  // Constants with enough zeros (magnitude-pruned weights) are stored as a bitmap and their
  // nonzero elements when that saves a quarter of their bytes; everything else, and any buffer
  // that is not a tensor's data (self-test data, packed weights), is stored as it is.
  std::vector<std::vector<uint8_t>> payloads = dense_payloads;
  std::vector<size_t> element_size(payloads.size(), 0);
  if (sparse_storage)
    for (const auto& t : model.tensors) {
      if (t->buffer < 0 || static_cast<size_t>(t->buffer) >= payloads.size()) continue;
      const size_t elem = DTypeSize(t->dtype);
      const std::vector<uint8_t>& dense = dense_payloads[t->buffer];
      if (elem == 0 || element_size[t->buffer] != 0 || dense.size() % elem != 0 ||
          dense.size() / elem < kMinSparseElements)
        continue;
      std::vector<uint8_t> sparse = EncodeSparseBitmap(dense, elem);
      if (sparse.size() * 4 > dense.size() * 3) continue;
      payloads[t->buffer] = std::move(sparse);
      element_size[t->buffer] = elem;
    }
  // Lay the data segment out first so that the FlatBuffer can record absolute offsets. The
  // FlatBuffer's size depends on the offsets only through fixed-width fields, so two passes
  // settle: build once to learn its size, then again with the real offsets.
  auto build = [&](uint64_t data_offset) {
    model.buffers.clear();
    uint64_t off = data_offset;
    for (const auto& p : payloads) {
      auto b = std::make_unique<opm::BufferT>();
      b->offset = off;
      b->size = p.size();
      b->hash = ContentHash(p.data(), p.size());
      const size_t index = model.buffers.size();
      if (element_size[index] != 0) {
        b->encoding = opm::BufferEncoding::SPARSE_BITMAP;
        b->dense_size = dense_payloads[index].size();
        b->element_size = static_cast<uint8_t>(element_size[index]);
      }
      model.buffers.push_back(std::move(b));
      off = AlignUp(off + p.size(), kConstantAlignment);
    }
    flatbuffers::FlatBufferBuilder fbb(1 << 16);
    fbb.Finish(opm::Model::Pack(fbb, &model), opm::ModelIdentifier());
    return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  };

  const uint64_t fb_offset = sizeof(FileHeader);
  std::vector<uint8_t> fb = build(0);
  uint64_t data_offset = AlignUp(fb_offset + fb.size(), kConstantAlignment);
  fb = build(data_offset);
  // Offsets grew the FlatBuffer past the segment start: move the segment and rebuild.
  while (AlignUp(fb_offset + fb.size(), kConstantAlignment) != data_offset) {
    data_offset = AlignUp(fb_offset + fb.size(), kConstantAlignment);
    fb = build(data_offset);
  }

  uint64_t data_size = 0;
  for (const auto& b : model.buffers) data_size = b->offset + b->size - data_offset;
  const uint64_t file_size = data_offset + data_size;

  std::vector<uint8_t> out(file_size, 0);
  FileHeader h{};
  std::memcpy(h.magic, kFileMagic, sizeof(h.magic));
  h.format_major = kFormatMajor;
  h.format_minor = kFormatMinor;
  h.header_bytes = sizeof(FileHeader);
  h.flatbuffer_offset = fb_offset;
  h.flatbuffer_size = fb.size();
  h.data_offset = data_offset;
  h.data_size = data_size;
  h.file_size = file_size;
  std::memcpy(out.data(), &h, sizeof(h));
  std::memcpy(out.data() + fb_offset, fb.data(), fb.size());
  for (size_t i = 0; i < payloads.size(); ++i)
    if (!payloads[i].empty())
      std::memcpy(out.data() + model.buffers[i]->offset, payloads[i].data(), payloads[i].size());
  return out;
}

}  // namespace outpost::emit
