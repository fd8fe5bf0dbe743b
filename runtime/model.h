// A verified, zero-copy view of a .opm model held in memory (mmap, flash or a static array).
//
// Model::Load is the trust boundary: it checks the file header, runs the FlatBuffers verifier
// and then checks every index, shape, offset and size the runtime will later use, so that
// Interpreter::Invoke never has to. A model that fails gets kCorruptModel and a message that
// names the first problem found. The bytes must outlive the Model.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "runtime/error_reporter.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

namespace outpost {

// Fixed 64-byte file header; little-endian. See docs/model-format.md.
struct FileHeader {
  char magic[8];            // "OUTPOSTM"
  uint16_t format_major;    // readers refuse other majors
  uint16_t format_minor;    // additions only; older readers ignore new fields
  uint32_t header_bytes;    // 64
  uint64_t flatbuffer_offset;
  uint64_t flatbuffer_size;
  uint64_t data_offset;     // start of the constant data segment (64-byte aligned)
  uint64_t data_size;
  uint64_t file_size;       // total bytes: detects truncation before anything else is read
  uint32_t reserved0;
  uint32_t reserved1;
};
static_assert(sizeof(FileHeader) == 64, "header layout is part of the format");

constexpr uint16_t kFormatMajor = 1;
constexpr uint16_t kFormatMinor = 5;
constexpr size_t kConstantAlignment = 64;
constexpr char kFileMagic[8] = {'O', 'U', 'T', 'P', 'O', 'S', 'T', 'M'};

class Model {
 public:
  Model() = default;

  // Verifies `data` and, on success, makes this Model a view of it.
  Status Load(const void* data, size_t size, ErrorReporter* errors = nullptr);

  bool loaded() const { return model_ != nullptr; }
  const opm::Model* fb() const { return model_; }
  const FileHeader& header() const { return *header_; }
  const uint8_t* bytes() const { return base_; }
  size_t size() const { return size_; }

  int num_tensors() const;
  int num_operators() const;
  int num_inputs() const;
  int num_outputs() const;
  int input_tensor(int i) const;
  int output_tensor(int i) const;
  uint64_t arena_bytes() const;

  // Fills `view` from tensor `index` (shape, dtype, quantization, constant data pointer; the
  // arena pointer of non-constant tensors is left null: the Interpreter sets it).
  void DescribeTensor(int index, TensorView* view) const;
  // Pointer to constant buffer `index` in the data segment, and its stored size: the encoded
  // bytes when the buffer is sparse.
  const uint8_t* BufferData(int index) const;
  uint64_t BufferSize(int index) const;
  // Sparse buffers (format 1.5, opm::BufferEncoding::SPARSE_BITMAP) store only the nonzero
  // elements; DescribeTensor leaves such a tensor's data null and the Interpreter decodes it
  // into its arena. BufferDenseSize is the decoded size (BufferSize for a dense buffer);
  // BufferNonzeros counts the elements that are not zero in a sparse buffer (from its bitmap).
  bool BufferIsSparse(int index) const;
  uint64_t BufferDenseSize(int index) const;
  uint64_t BufferNonzeros(int index) const;
  // Writes buffer `index`'s data, decoded, to `out` (BufferDenseSize bytes).
  void DecodeBuffer(int index, void* out) const;

 private:
  Status Validate(ErrorReporter& errors);
  Status ValidateEncoding(uint32_t index, ErrorReporter& errors) const;

  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  const FileHeader* header_ = nullptr;
  const opm::Model* model_ = nullptr;
};

// Bytes of a SPARSE_BITMAP buffer's bitmap for `elements` elements of `element_size` bytes: one
// bit per element, padded to a multiple of the element size so that the values stay aligned.
// `element_size` is a power of two (every dtype's is).
uint64_t SparseBitmapBytes(uint64_t elements, size_t element_size);

// Size of a tensor in bytes from its model description, or 0 if it overflows / is invalid.
uint64_t TensorBytes(const opm::Tensor& t);

// Longest PackedWeights.layout a reader accepts (the identities are short fixed strings).
constexpr uint32_t kMaxPackedLayoutChars = 96;

}  // namespace outpost
