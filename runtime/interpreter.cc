#include "runtime/interpreter.h"

#include <math.h>
#include <string.h>

namespace outpost {
namespace {

size_t AlignUp(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

// The dtype a kernel is chosen by: the first present input's.
Status OpDType(const Model& model, const opm::Operator& op, DType* out) {
  for (int32_t idx : *op.inputs()) {
    if (idx >= 0) {
      *out = model.fb()->tensors()->Get(idx)->dtype();
      return Status::kOk;
    }
  }
  return Status::kCorruptModel;
}

Status ResolveKernel(const Model& model, const OpResolver& resolver, int index,
                     const KernelRegistration** out, ErrorReporter& err) {
  const opm::Operator& op = *model.fb()->operators()->Get(index);
  DType dtype;
  if (OpDType(model, op, &dtype) != Status::kOk)
    return OUTPOST_REPORT(err, Status::kCorruptModel, "operator %d (%s) has no input", index,
                          OpName(op.opcode()));
  *out = resolver.Find(op.opcode(), dtype);
  if (*out == nullptr)
    return OUTPOST_REPORT(err, Status::kUnsupported,
                          "operator %d: no kernel for %s on %s tensors in this build", index,
                          OpName(op.opcode()), DTypeName(dtype));
  return Status::kOk;
}

// Whether `s` holds exactly `text`. Not strcmp: newlib's optimized strcmp for Cortex-M adds
// about 700 bytes of flash to a firmware image for this one comparison.
bool SameText(const flatbuffers::String& s, const char* text) {
  const char* p = s.c_str();
  for (uint32_t i = 0; i < s.size(); ++i)
    if (p[i] != text[i] || text[i] == '\0') return false;
  return text[s.size()] == '\0';
}

// The model's cached copy of kernel `k`'s packed layout for operator `index`, if it carries one
// whose layout string is exactly the kernel's (*buffer = its index, else -1). A matching entry
// whose size differs from the kernel's own packed size is a corrupt model: refused here, before
// any kernel could read past it.
Status FindCachedPacked(const Model& model, int index, const KernelRegistration& k, int* buffer,
                        ErrorReporter& err) {
  *buffer = -1;
  const opm::Operator& op = *model.fb()->operators()->Get(index);
  if (k.packed_layout == nullptr || k.packed_bytes == nullptr || op.packed() == nullptr)
    return Status::kOk;
  for (const opm::PackedWeights* pw : *op.packed()) {
    if (!SameText(*pw->layout(), k.packed_layout)) continue;
    const size_t want = k.packed_bytes(model, op);
    const uint64_t have = model.BufferSize(pw->buffer());
    if (want == 0 || have != want)
      return OUTPOST_REPORT(err, Status::kCorruptModel,
                            "operator %d: packed weights for %s are %llu bytes, kernel %s "
                            "expects %zu",
                            index, k.packed_layout, static_cast<unsigned long long>(have),
                            k.name ? k.name : "?", want);
    *buffer = pw->buffer();
    return Status::kOk;
  }
  return Status::kOk;
}

// Whether sparse-stored constant `tensor` must be decoded into the arena: some operator reads
// it other than as the weights of a kernel that reads the stored encoding in place.
Status SparseNeedsDecode(const Model& model, const OpResolver& resolver, int tensor, bool* out,
                         ErrorReporter& err) {
  *out = false;
  for (int i = 0; i < model.num_operators() && !*out; ++i) {
    const opm::Operator& op = *model.fb()->operators()->Get(i);
    for (uint32_t slot = 0; slot < op.inputs()->size(); ++slot) {
      if (op.inputs()->Get(slot) != tensor) continue;
      const KernelRegistration* k = nullptr;
      OUTPOST_RETURN_IF_ERROR(ResolveKernel(model, resolver, i, &k, err));
      if (slot != 1 || k->reads_sparse_weights == nullptr || !k->reads_sparse_weights(model, op)) {
        *out = true;
        break;
      }
    }
  }
  return Status::kOk;
}

}  // namespace

Status Interpreter::Measure(const Model& model, const OpResolver& resolver,
                            ArenaRequirement* out, ErrorReporter* errors) {
  ErrorReporter local;
  ErrorReporter& err = errors ? *errors : local;
  if (!model.loaded())
    return OUTPOST_REPORT(err, Status::kInvalidArgument, "interpreter: model is not loaded");
  ArenaRequirement r;
  r.activation_bytes = static_cast<size_t>(model.arena_bytes());
  r.state_bytes = BookkeepingBytes(static_cast<size_t>(model.num_tensors()),
                                   static_cast<size_t>(model.num_operators()));
  for (int i = 0; i < model.num_operators(); ++i) {
    const KernelRegistration* k = nullptr;
    OUTPOST_RETURN_IF_ERROR(ResolveKernel(model, resolver, i, &k, err));
    r.state_bytes += AlignUp(k->op_data_bytes, kStateAlignment);
    int cached = -1;
    OUTPOST_RETURN_IF_ERROR(FindCachedPacked(model, i, *k, &cached, err));
    if (k->packed_bytes != nullptr && cached < 0) {
      r.packed_bytes += AlignUp(k->packed_bytes(model, *model.fb()->operators()->Get(i)),
                                kArenaAlignment);
    }
    if (k->scratch_bytes != nullptr) {
      const size_t s = k->scratch_bytes(model, *model.fb()->operators()->Get(i));
      if (s > r.scratch_bytes) r.scratch_bytes = s;
    }
  }
  // Constants stored sparse (format 1.5) are decoded once into the arena: the file and an
  // update shrink, the RAM the weights take does not.
  // Kernels that read the stored encoding in place need no decoded copy.
  for (int t = 0; t < model.num_tensors(); ++t) {
    const int32_t b = model.fb()->tensors()->Get(t)->buffer();
    if (b < 0 || !model.BufferIsSparse(b)) continue;
    bool decode = false;
    OUTPOST_RETURN_IF_ERROR(SparseNeedsDecode(model, resolver, t, &decode, err));
    if (decode)
      r.decoded_bytes += AlignUp(static_cast<size_t>(model.BufferDenseSize(b)), kArenaAlignment);
  }
  r.total_bytes = AlignUp(r.activation_bytes, kArenaAlignment) +
                  AlignUp(r.scratch_bytes, kArenaAlignment) + r.packed_bytes + r.decoded_bytes +
                  r.state_bytes;
  *out = r;
  return Status::kOk;
}

Status Interpreter::Init(const Model& model, const OpResolver& resolver, void* arena,
                         size_t arena_bytes, ErrorReporter* errors) {
  ready_ = false;
  errors_ = errors ? errors : &own_errors_;
  ErrorReporter& err = *errors_;
  OUTPOST_RETURN_IF_ERROR(Measure(model, resolver, &requirement_, errors_));
  if (arena == nullptr)
    return OUTPOST_REPORT(err, Status::kArenaTooSmall,
                          "interpreter: no arena given; this model needs %zu bytes",
                          requirement_.total_bytes);
  uint8_t* base = static_cast<uint8_t*>(arena);
  const size_t skew = AlignUp(reinterpret_cast<uintptr_t>(base), kArenaAlignment) -
                      reinterpret_cast<uintptr_t>(base);
  if (arena_bytes < skew || arena_bytes - skew < requirement_.total_bytes)
    return OUTPOST_REPORT(err, Status::kArenaTooSmall,
                          "interpreter: arena of %zu bytes, this model needs %zu (64-byte "
                          "aligned)",
                          arena_bytes, requirement_.total_bytes);
  base += skew;
  model_ = &model;
  uint8_t* activations = base;
  scratch_ = base + AlignUp(requirement_.activation_bytes, kArenaAlignment);
  // Packed weights come right after the scratch, each block 64-byte aligned for vector loads.
  uint8_t* packed = scratch_ + AlignUp(requirement_.scratch_bytes, kArenaAlignment);
  uint8_t* decoded = packed + requirement_.packed_bytes;
  uint8_t* state = decoded + requirement_.decoded_bytes;
  tensors_ = reinterpret_cast<TensorView*>(state);
  state += AlignUp(sizeof(TensorView) * model.num_tensors(), kStateAlignment);
  ops_ = reinterpret_cast<OpRecord*>(state);
  state += AlignUp(sizeof(OpRecord) * model.num_operators(), kStateAlignment);
  num_ops_ = model.num_operators();

  for (int i = 0; i < model.num_tensors(); ++i) {
    new (&tensors_[i]) TensorView();
    model.DescribeTensor(i, &tensors_[i]);
    const opm::Tensor* t = model.fb()->tensors()->Get(i);
    if (!tensors_[i].is_constant) {
      tensors_[i].data = activations + t->arena_offset();
    } else if (model.BufferIsSparse(t->buffer())) {
      bool decode = false;
      OUTPOST_RETURN_IF_ERROR(SparseNeedsDecode(model, resolver, i, &decode, err));
      if (!decode) {
        tensors_[i].sparse = model.BufferData(t->buffer());
        continue;
      }
      model.DecodeBuffer(t->buffer(), decoded);
      tensors_[i].data = decoded;
      decoded += AlignUp(static_cast<size_t>(model.BufferDenseSize(t->buffer())), kArenaAlignment);
    }
  }
  for (int i = 0; i < num_ops_; ++i) {
    OpRecord& rec = ops_[i];
    rec.op = model.fb()->operators()->Get(i);
    OUTPOST_RETURN_IF_ERROR(ResolveKernel(model, resolver, i, &rec.kernel, err));
    rec.op_data = rec.kernel->op_data_bytes ? state : nullptr;
    if (rec.op_data) memset(rec.op_data, 0, rec.kernel->op_data_bytes);
    state += AlignUp(rec.kernel->op_data_bytes, kStateAlignment);
    rec.packed = nullptr;
    rec.packed_bytes = 0;
    rec.packed_in_model = false;
    int cached = -1;
    OUTPOST_RETURN_IF_ERROR(FindCachedPacked(model, i, *rec.kernel, &cached, err));
    if (cached >= 0) {
      // Used where it lies in the model (mapped file or flash): no copy, no fresh pages. The
      // kernel only reads it (KernelContext::packed_in_model).
      rec.packed = const_cast<uint8_t*>(model.BufferData(cached));
      rec.packed_bytes = static_cast<size_t>(model.BufferSize(cached));
      rec.packed_in_model = true;
    } else if (rec.kernel->packed_bytes != nullptr) {
      rec.packed_bytes = rec.kernel->packed_bytes(model, *rec.op);
      rec.packed = rec.packed_bytes ? packed : nullptr;
      packed += AlignUp(rec.packed_bytes, kArenaAlignment);
    }
    KernelContext ctx(rec.op, tensors_, rec.op_data, scratch_, requirement_.scratch_bytes,
                      executor_, errors_, rec.packed, rec.packed_bytes, rec.packed_in_model);
    const Status s = rec.kernel->prepare ? rec.kernel->prepare(ctx) : Status::kOk;
    if (s != Status::kOk) {
      // Keep the kernel's own message but say which operator it came from.
      char detail[ErrorReporter::kCapacity];
      memcpy(detail, err.message(), sizeof(detail));
      // Unused when OUTPOST_NO_ERROR_STRINGS compiles the message out.
      [[maybe_unused]] const char* name = rec.op->name() ? rec.op->name()->c_str() : "";
      return OUTPOST_REPORT(err, s, "operator %d %s (%s): %s", i, name,
                            OpName(rec.op->opcode()), detail);
    }
  }
  ready_ = true;
  return Status::kOk;
}

Status Interpreter::Invoke() {
  if (!ready_)
    return OUTPOST_REPORT(*errors_, Status::kNotReady, "interpreter: Invoke before Init");
  for (int i = 0; i < num_ops_; ++i) {
    OpRecord& rec = ops_[i];
    KernelContext ctx(rec.op, tensors_, rec.op_data, scratch_, requirement_.scratch_bytes,
                      executor_, errors_, rec.packed, rec.packed_bytes, rec.packed_in_model);
    if (observer_ && observer_->begin) observer_->begin(observer_->user, i);
    const Status s = rec.kernel->eval(ctx);
    if (observer_ && observer_->end) observer_->end(observer_->user, i);
    if (s != Status::kOk) return s;
  }
  return Status::kOk;
}

int Interpreter::num_inputs() const { return model_ ? model_->num_inputs() : 0; }
int Interpreter::num_outputs() const { return model_ ? model_->num_outputs() : 0; }
TensorView& Interpreter::input(int i) { return tensors_[model_->input_tensor(i)]; }
TensorView& Interpreter::output(int i) { return tensors_[model_->output_tensor(i)]; }

Status Interpreter::RunSelfTest() {
  if (!ready_)
    return OUTPOST_REPORT(*errors_, Status::kNotReady, "self-test: interpreter not ready");
  const opm::SelfTest* st = model_->fb()->self_test();
  if (st == nullptr)
    return OUTPOST_REPORT(*errors_, Status::kUnsupported, "self-test: model carries none");
  for (int i = 0; i < num_inputs(); ++i)
    memcpy(input(i).data, model_->BufferData(st->inputs()->Get(i)), input(i).bytes);
  OUTPOST_RETURN_IF_ERROR(Invoke());
  for (int o = 0; o < num_outputs(); ++o) {
    const TensorView& out = output(o);
    const uint8_t* want = model_->BufferData(st->outputs()->Get(o));
    if (out.dtype == DType::FLOAT32) {
      const float* got = out.as<float>();
      const float* exp = reinterpret_cast<const float*>(want);
      for (int64_t k = 0; k < out.num_elements(); ++k) {
        const float diff = fabsf(got[k] - exp[k]);
        if (!(diff <= st->atol() + st->rtol() * fabsf(exp[k])))
          return OUTPOST_REPORT(*errors_, Status::kInternal,
                                "self-test: output %d differs at element %lld", o,
                                static_cast<long long>(k));
      }
    } else if (memcmp(out.data, want, out.bytes) != 0) {
      return OUTPOST_REPORT(*errors_, Status::kInternal, "self-test: output %d differs", o);
    }
  }
  return Status::kOk;
}

}  // namespace outpost
