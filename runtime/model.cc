#include "runtime/model.h"

#include <string.h>

#include "flatbuffers/verifier.h"

namespace outpost {
namespace {

// Hard limits that keep validation linear and every size computation far from overflow.
constexpr uint32_t kMaxTensors = 1u << 20;
constexpr uint32_t kMaxOperators = 1u << 20;
constexpr uint64_t kMaxTensorBytes = 1ull << 40;
constexpr int32_t kMaxDim = 1 << 30;

// The option table each opcode must carry (NONE: no options needed).
opm::OpOptions ExpectedOptions(OpCode op) {
  using O = opm::OpOptions;
  switch (op) {
    case OpCode::CONV_2D: return O::Conv2DOptions;
    case OpCode::CONV_TRANSPOSE_2D: return O::ConvTranspose2DOptions;
    case OpCode::FULLY_CONNECTED: return O::FullyConnectedOptions;
    case OpCode::ADD:
    case OpCode::SUB:
    case OpCode::MUL:
    case OpCode::DIV: return O::BinaryOptions;
    case OpCode::LEAKY_RELU: return O::LeakyReluOptions;
    case OpCode::CLIP: return O::ClipOptions;
    case OpCode::HARD_SIGMOID: return O::HardSigmoidOptions;
    case OpCode::SOFTMAX: return O::SoftmaxOptions;
    case OpCode::MAX_POOL_2D:
    case OpCode::AVERAGE_POOL_2D: return O::Pool2DOptions;
    case OpCode::CONCAT: return O::ConcatOptions;
    case OpCode::TRANSPOSE: return O::TransposeOptions;
    case OpCode::PAD: return O::PadOptions;
    case OpCode::SLICE: return O::SliceOptions;
    case OpCode::SPLIT: return O::SplitOptions;
    case OpCode::RESIZE: return O::ResizeOptions;
    case OpCode::REDUCE_MEAN: return O::ReduceOptions;
    default: return O::NONE;
  }
}

// Element sizes and alignments are powers of two (DTypeSize, and the file's element sizes and
// plan alignment are checked to be). Dividing 64-bit sizes by them with a shift or a mask keeps
// 64-bit division out of the reader: on a 32-bit core that is a 700-byte library routine.
inline uint64_t DivPow2(uint64_t x, uint32_t pow2) {
  return x >> static_cast<unsigned>(__builtin_ctz(pow2));
}
inline bool IsMultipleOfPow2(uint64_t x, uint32_t pow2) { return (x & (pow2 - 1u)) == 0; }

}  // namespace

uint64_t SparseBitmapBytes(uint64_t elements, size_t element_size) {
  const uint64_t bytes = (elements + 7) / 8;
  const uint64_t mask = static_cast<uint64_t>(element_size) - 1u;
  return (bytes + mask) & ~mask;
}

uint64_t TensorBytes(const opm::Tensor& t) {
  const size_t elem = DTypeSize(t.dtype());
  if (elem == 0) return 0;
  uint64_t n = 1;
  if (t.shape() != nullptr) {
    if (t.shape()->size() > static_cast<uint32_t>(kMaxRank)) return 0;
    for (int32_t d : *t.shape()) {
      if (d < 1 || d > kMaxDim) return 0;
      n *= static_cast<uint64_t>(d);
      if (n > kMaxTensorBytes) return 0;
    }
  }
  n *= elem;
  return n > kMaxTensorBytes ? 0 : n;
}

Status Model::Load(const void* data, size_t size, ErrorReporter* errors) {
  ErrorReporter local;
  ErrorReporter& err = errors != nullptr ? *errors : local;
  base_ = nullptr;
  size_ = 0;
  header_ = nullptr;
  model_ = nullptr;
  if (data == nullptr) return OUTPOST_REPORT(err, Status::kInvalidArgument, "model: null buffer");
  if ((reinterpret_cast<uintptr_t>(data) & 15u) != 0)
    return OUTPOST_REPORT(err, Status::kInvalidArgument,
                          "model: buffer must be 16-byte aligned (mmap or aligned allocation)");
  if (size < sizeof(FileHeader))
    return OUTPOST_REPORT(err, Status::kCorruptModel,
                          "model: %zu bytes is shorter than the 64-byte header (truncated?)", size);
  const auto* h = static_cast<const FileHeader*>(data);
  if (memcmp(h->magic, kFileMagic, sizeof(kFileMagic)) != 0)
    return OUTPOST_REPORT(err, Status::kCorruptModel, "model: not an Outpost model (bad magic)");
  if (h->format_major != kFormatMajor)
    return OUTPOST_REPORT(err, Status::kUnsupported,
                          "model: format version %u.%u, this runtime reads %u.x",
                          unsigned(h->format_major), unsigned(h->format_minor),
                          unsigned(kFormatMajor));
  if (h->header_bytes != sizeof(FileHeader))
    return OUTPOST_REPORT(err, Status::kCorruptModel, "model: bad header size");
  if (h->file_size != size)
    return OUTPOST_REPORT(err, Status::kCorruptModel,
                          "model: file is %zu bytes but its header says %llu (truncated or padded)",
                          size, static_cast<unsigned long long>(h->file_size));
  if (h->flatbuffer_offset < sizeof(FileHeader) || h->flatbuffer_offset % 8 != 0 ||
      h->flatbuffer_size > size || h->flatbuffer_offset > size - h->flatbuffer_size ||
      h->flatbuffer_size < 8 || h->flatbuffer_size > 0x7fffffffu)
    return OUTPOST_REPORT(err, Status::kCorruptModel, "model: graph section out of bounds");
  if (h->data_offset % kConstantAlignment != 0 || h->data_size > size ||
      h->data_offset > size - h->data_size)
    return OUTPOST_REPORT(err, Status::kCorruptModel, "model: data section out of bounds");

  const uint8_t* fb = static_cast<const uint8_t*>(data) + h->flatbuffer_offset;
  flatbuffers::Verifier::Options opts;
  opts.max_depth = 32;
  opts.max_tables = 4u << 20;
  opts.check_alignment = true;
  flatbuffers::Verifier verifier(fb, static_cast<size_t>(h->flatbuffer_size), opts);
  if (!opm::VerifyModelBuffer(verifier))
    return OUTPOST_REPORT(err, Status::kCorruptModel,
                          "model: graph section fails FlatBuffers verification");

  base_ = static_cast<const uint8_t*>(data);
  size_ = size;
  header_ = h;
  model_ = opm::GetModel(fb);
  const Status s = Validate(err);
  if (s != Status::kOk) {
    base_ = nullptr;
    size_ = 0;
    header_ = nullptr;
    model_ = nullptr;
  }
  return s;
}

Status Model::Validate(ErrorReporter& err) {
  const opm::Model& m = *model_;
  // Empty vectors are stored as absent fields: a model may have no operators or no inputs
  // (constant-folded), but never no outputs.
  if (m.tensors() == nullptr || m.outputs() == nullptr || m.plan() == nullptr)
    return OUTPOST_REPORT(err, Status::kCorruptModel,
                          "model: missing tensors, outputs or memory plan");
  const uint32_t nt = m.tensors()->size();
  const uint32_t nops = m.operators() != nullptr ? m.operators()->size() : 0;
  const uint32_t nb = m.buffers() != nullptr ? m.buffers()->size() : 0;
  if (nt > kMaxTensors || nops > kMaxOperators)
    return OUTPOST_REPORT(err, Status::kCorruptModel, "model: too many tensors or operators");
  const uint64_t arena = m.plan()->arena_bytes();
  const uint32_t align = m.plan()->alignment();
  if (arena > kMaxTensorBytes || align == 0 || align > kConstantAlignment || (align & (align - 1)))
    return OUTPOST_REPORT(err, Status::kCorruptModel, "model: invalid memory plan");

  for (uint32_t b = 0; b < nb; ++b) {
    const opm::Buffer* buf = m.buffers()->Get(b);
    if (!IsMultipleOfPow2(buf->offset(), kConstantAlignment) ||
        buf->offset() < header_->data_offset ||
        buf->size() > header_->data_size ||
        buf->offset() - header_->data_offset > header_->data_size - buf->size())
      return OUTPOST_REPORT(err, Status::kCorruptModel,
                            "model: constant buffer %u lies outside the data section", b);
    if (buf->hash() != nullptr && buf->hash()->size() != 32)
      return OUTPOST_REPORT(err, Status::kCorruptModel, "model: buffer %u has a bad hash", b);
    OUTPOST_RETURN_IF_ERROR(ValidateEncoding(b, err));
  }

  for (uint32_t i = 0; i < nt; ++i) {
    const opm::Tensor* t = m.tensors()->Get(i);
    if (t->dtype() < opm::DType::MIN || t->dtype() > opm::DType::MAX)
      return OUTPOST_REPORT(err, Status::kCorruptModel, "model: tensor %u has an unknown dtype", i);
    const uint64_t bytes = TensorBytes(*t);
    if (bytes == 0)
      return OUTPOST_REPORT(err, Status::kCorruptModel,
                            "model: tensor %u has an invalid shape (rank > %d, or a dimension "
                            "below 1, or too large)",
                            i, kMaxRank);
    if (const opm::Quantization* q = t->quantization()) {
      const uint32_t ns = q->scale() ? q->scale()->size() : 0;
      const uint32_t nz = q->zero_point() ? q->zero_point()->size() : 0;
      const int rank = t->shape() ? static_cast<int>(t->shape()->size()) : 0;
      // One zero point may serve every channel (format 1.3).
      bool ok = ns > 0 && (nz == ns || nz == 1);
      if (ok && q->axis() < 0) ok = ns == 1;
      if (ok && q->axis() >= 0)
        ok = q->axis() < rank && static_cast<int32_t>(ns) == t->shape()->Get(q->axis());
      if (!ok)
        return OUTPOST_REPORT(err, Status::kCorruptModel,
                              "model: tensor %u has inconsistent quantization parameters", i);
    }
    if (t->buffer() >= 0) {
      if (static_cast<uint32_t>(t->buffer()) >= nb)
        return OUTPOST_REPORT(err, Status::kCorruptModel, "model: tensor %u: bad buffer index", i);
      if (BufferDenseSize(t->buffer()) != bytes)
        return OUTPOST_REPORT(err, Status::kCorruptModel,
                              "model: tensor %u: constant data size does not match its shape", i);
      if (BufferIsSparse(t->buffer()) &&
          m.buffers()->Get(t->buffer())->element_size() != DTypeSize(t->dtype()))
        return OUTPOST_REPORT(err, Status::kCorruptModel,
                              "model: tensor %u: sparse buffer element size is not its dtype's",
                              i);
      if (t->arena_offset() != -1)
        return OUTPOST_REPORT(err, Status::kCorruptModel,
                              "model: tensor %u is both constant and planned", i);
    } else {
      if (t->buffer() != -1 || t->arena_offset() < 0 ||
          !IsMultipleOfPow2(static_cast<uint64_t>(t->arena_offset()), align) ||
          static_cast<uint64_t>(t->arena_offset()) > arena || bytes > arena - t->arena_offset())
        return OUTPOST_REPORT(err, Status::kCorruptModel,
                              "model: tensor %u lies outside the planned arena", i);
      // Kernels access elements through typed pointers (the arena itself is 64-byte aligned).
      if (!IsMultipleOfPow2(static_cast<uint64_t>(t->arena_offset()),
                            static_cast<uint32_t>(DTypeSize(t->dtype()))))
        return OUTPOST_REPORT(err, Status::kCorruptModel,
                              "model: tensor %u is not aligned to its element size", i);
    }
  }

  auto is_arena_tensor = [&](int32_t idx) {
    return idx >= 0 && static_cast<uint32_t>(idx) < nt && m.tensors()->Get(idx)->buffer() < 0;
  };
  if (m.inputs() != nullptr)
    for (int32_t idx : *m.inputs())
      if (!is_arena_tensor(idx))
        return OUTPOST_REPORT(err, Status::kCorruptModel, "model: bad graph input %d", idx);
  for (int32_t idx : *m.outputs())
    if (!is_arena_tensor(idx))
      return OUTPOST_REPORT(err, Status::kCorruptModel, "model: bad graph output %d", idx);

  for (uint32_t o = 0; o < nops; ++o) {
    const opm::Operator* op = m.operators()->Get(o);
    if (op->opcode() > opm::OpCode::MAX)
      return OUTPOST_REPORT(err, Status::kUnsupported,
                            "model: operator %u has opcode %u, unknown to this runtime", o,
                            unsigned(op->opcode()));
    if (op->inputs() == nullptr || op->outputs() == nullptr || op->outputs()->size() == 0 ||
        op->inputs()->size() > 64 || op->outputs()->size() > 64)
      return OUTPOST_REPORT(err, Status::kCorruptModel, "model: operator %u has bad operands", o);
    for (int32_t idx : *op->inputs())
      if (idx < -1 || idx >= static_cast<int32_t>(nt))
        return OUTPOST_REPORT(err, Status::kCorruptModel,
                              "model: operator %u reads tensor %d, out of range", o, idx);
    for (int32_t idx : *op->outputs())
      if (!is_arena_tensor(idx))
        return OUTPOST_REPORT(err, Status::kCorruptModel,
                              "model: operator %u writes tensor %d, which is not in the arena", o,
                              idx);
    const opm::OpOptions want = ExpectedOptions(op->opcode());
    // A union whose type is set but whose table is absent passes the FlatBuffers verifier, so
    // the table itself is checked too.
    if (want != opm::OpOptions::NONE && (op->options_type() != want || op->options() == nullptr))
      return OUTPOST_REPORT(err, Status::kCorruptModel,
                            "model: operator %u (%s) lacks its options", o,
                            OpName(op->opcode()));
    // Cached packed weights: the buffer must exist (its bounds and alignment were checked
    // above) and the layout be a short string. Whether the size is what the kernel expects is
    // checked when a kernel is chosen (Interpreter::Measure), since it depends on the kernel.
    if (op->packed() != nullptr) {
      if (op->packed()->size() > 8)
        return OUTPOST_REPORT(err, Status::kCorruptModel,
                              "model: operator %u has too many packed weight entries", o);
      for (const opm::PackedWeights* pw : *op->packed()) {
        if (pw == nullptr || pw->layout() == nullptr || pw->layout()->size() == 0 ||
            pw->layout()->size() > kMaxPackedLayoutChars)
          return OUTPOST_REPORT(err, Status::kCorruptModel,
                                "model: operator %u: packed weights without a valid layout", o);
        if (pw->buffer() < 0 || static_cast<uint32_t>(pw->buffer()) >= nb ||
            BufferIsSparse(pw->buffer()))
          return OUTPOST_REPORT(err, Status::kCorruptModel,
                                "model: operator %u: packed weights with bad buffer index %d", o,
                                pw->buffer());
      }
    }
  }

  if (const opm::SelfTest* st = m.self_test()) {
    auto check = [&](const flatbuffers::Vector<int32_t>* bufs,
                     const flatbuffers::Vector<int32_t>* tensors) {
      const uint32_t n = tensors != nullptr ? tensors->size() : 0;
      if ((bufs != nullptr ? bufs->size() : 0) != n) return false;
      for (uint32_t k = 0; k < n; ++k) {
        const int32_t b = bufs->Get(k);
        if (b < 0 || static_cast<uint32_t>(b) >= nb || BufferIsSparse(b)) return false;
        if (m.buffers()->Get(b)->size() != TensorBytes(*m.tensors()->Get(tensors->Get(k))))
          return false;
      }
      return true;
    };
    if (!check(st->inputs(), m.inputs()) || !check(st->outputs(), m.outputs()))
      return OUTPOST_REPORT(err, Status::kCorruptModel, "model: self-test data does not match");
  }
  if (m.input_specs() != nullptr)
    for (const opm::InputSpec* spec : *m.input_specs())
      if (spec->tensor() < 0 || static_cast<uint32_t>(spec->tensor()) >= nt)
        return OUTPOST_REPORT(err, Status::kCorruptModel, "model: bad input spec");
  return Status::kOk;
}

int Model::num_tensors() const { return static_cast<int>(model_->tensors()->size()); }
int Model::num_operators() const {
  return model_->operators() ? static_cast<int>(model_->operators()->size()) : 0;
}
int Model::num_inputs() const {
  return model_->inputs() ? static_cast<int>(model_->inputs()->size()) : 0;
}
int Model::num_outputs() const { return static_cast<int>(model_->outputs()->size()); }
int Model::input_tensor(int i) const { return model_->inputs()->Get(i); }
int Model::output_tensor(int i) const { return model_->outputs()->Get(i); }
uint64_t Model::arena_bytes() const { return model_->plan()->arena_bytes(); }

const uint8_t* Model::BufferData(int index) const {
  return base_ + model_->buffers()->Get(index)->offset();
}
uint64_t Model::BufferSize(int index) const { return model_->buffers()->Get(index)->size(); }

bool Model::BufferIsSparse(int index) const {
  return model_->buffers()->Get(index)->encoding() == opm::BufferEncoding::SPARSE_BITMAP;
}

uint64_t Model::BufferDenseSize(int index) const {
  const opm::Buffer* b = model_->buffers()->Get(index);
  return b->encoding() == opm::BufferEncoding::SPARSE_BITMAP ? b->dense_size() : b->size();
}

uint64_t Model::BufferNonzeros(int index) const {
  const opm::Buffer* b = model_->buffers()->Get(index);
  if (b->encoding() != opm::BufferEncoding::SPARSE_BITMAP) return 0;
  const uint64_t n = DivPow2(b->dense_size(), b->element_size());
  return DivPow2(b->size() - SparseBitmapBytes(n, b->element_size()), b->element_size());
}

void Model::DecodeBuffer(int index, void* out) const {
  const opm::Buffer* b = model_->buffers()->Get(index);
  const uint8_t* src = BufferData(index);
  uint8_t* dst = static_cast<uint8_t*>(out);
  if (b->encoding() != opm::BufferEncoding::SPARSE_BITMAP) {
    memcpy(dst, src, static_cast<size_t>(b->size()));
    return;
  }
  const uint32_t elem = b->element_size();
  const uint64_t n = DivPow2(b->dense_size(), elem);
  const uint8_t* bitmap = src;
  const uint8_t* values = src + SparseBitmapBytes(n, elem);
  memset(dst, 0, static_cast<size_t>(b->dense_size()));
  // Validate() checked that the bitmap's population equals the number of stored values, so
  // `values` never runs past the buffer.
  for (uint64_t i = 0; i < n; i += 8) {
    unsigned bits = bitmap[i / 8];
    while (bits != 0) {
      const unsigned bit = static_cast<unsigned>(__builtin_ctz(bits));
      memcpy(dst + (i + bit) * elem, values, elem);
      values += elem;
      bits &= bits - 1;
    }
  }
}

// A sparse buffer must decode to exactly dense_size bytes from exactly its stored bytes: the
// element size is a dtype's, the bitmap fits, and its population equals the values stored.
Status Model::ValidateEncoding(uint32_t index, ErrorReporter& err) const {
  const opm::Buffer* b = model_->buffers()->Get(index);
  if (b->encoding() == opm::BufferEncoding::DENSE) return Status::kOk;
  if (b->encoding() != opm::BufferEncoding::SPARSE_BITMAP)
    return OUTPOST_REPORT(err, Status::kUnsupported,
                          "model: buffer %u has encoding %d, unknown to this runtime", index,
                          static_cast<int>(b->encoding()));
  const uint32_t elem = b->element_size();
  const uint64_t dense = b->dense_size();
  if ((elem != 1 && elem != 2 && elem != 4 && elem != 8) || dense == 0 ||
      !IsMultipleOfPow2(dense, elem) ||
      dense > kMaxTensorBytes)
    return OUTPOST_REPORT(err, Status::kCorruptModel,
                          "model: sparse buffer %u: bad element size or decoded size", index);
  const uint64_t n = DivPow2(dense, elem);
  const uint64_t bitmap_bytes = SparseBitmapBytes(n, elem);
  if (b->size() < bitmap_bytes || !IsMultipleOfPow2(b->size() - bitmap_bytes, elem))
    return OUTPOST_REPORT(err, Status::kCorruptModel,
                          "model: sparse buffer %u: %llu bytes cannot hold its bitmap and values",
                          index, static_cast<unsigned long long>(b->size()));
  const uint8_t* bitmap = BufferData(static_cast<int>(index));
  uint64_t population = 0;
  for (uint64_t k = 0; k < bitmap_bytes; ++k) {
    unsigned byte = bitmap[k];
    // Bits past element n - 1 (and the padding bytes) must be zero: one encoding per data.
    if (k * 8 + 8 > n) {
      const uint64_t valid = k * 8 >= n ? 0 : n - k * 8;
      if ((byte >> valid) != 0)
        return OUTPOST_REPORT(err, Status::kCorruptModel,
                              "model: sparse buffer %u: bitmap marks elements past the end",
                              index);
    }
    population += static_cast<unsigned>(__builtin_popcount(byte));
  }
  const uint64_t stored = DivPow2(b->size() - bitmap_bytes, elem);
  if (population != stored)
    return OUTPOST_REPORT(err, Status::kCorruptModel,
                          "model: sparse buffer %u: bitmap marks %llu elements, %llu are stored",
                          index, static_cast<unsigned long long>(population),
                          static_cast<unsigned long long>(stored));
  return Status::kOk;
}

void Model::DescribeTensor(int index, TensorView* v) const {
  const opm::Tensor* t = model_->tensors()->Get(index);
  *v = TensorView();
  v->dtype = t->dtype();
  v->rank = t->shape() ? static_cast<int32_t>(t->shape()->size()) : 0;
  for (int i = 0; i < v->rank; ++i) v->dims[i] = t->shape()->Get(i);
  v->bytes = static_cast<size_t>(TensorBytes(*t));
  if (const opm::Quantization* q = t->quantization()) {
    v->quant.scale = q->scale()->data();
    v->quant.zero_point = q->zero_point()->data();
    v->quant.count = static_cast<int32_t>(q->scale()->size());
    v->quant.zero_point_count = static_cast<int32_t>(q->zero_point()->size());
    v->quant.axis = q->axis();
  }
  if (t->buffer() >= 0) {
    v->is_constant = true;
    // The data section is read-only; kernels never write through constant views. A sparse
    // buffer's data is set by the Interpreter once it has decoded it.
    v->data = BufferIsSparse(t->buffer()) ? nullptr : const_cast<uint8_t*>(BufferData(t->buffer()));
  }
}

const char* DTypeName(DType t) {
  const char* name = opm::EnumNameDType(t);
  return (name != nullptr && *name != '\0') ? name : "UNKNOWN";
}

const char* OpName(OpCode op) {
  const char* name = opm::EnumNameOpCode(op);
  return (name != nullptr && *name != '\0') ? name : "UNKNOWN_OP";
}

}  // namespace outpost
