#include "compiler/emit/prepack.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "compiler/emit/opm_file.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/cpu_features.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"

namespace outpost::emit {
namespace {

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

// A 64-byte aligned copy of `n` bytes (zeroed first), as the reader and the arena require.
std::unique_ptr<uint8_t, AlignedFree> AlignedZeros(size_t n) {
  const size_t rounded = (n + 63) / 64 * 64 + 64;
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
  if (p == nullptr) throw std::runtime_error("prepack: out of memory");
  std::memset(p, 0, rounded);
  return std::unique_ptr<uint8_t, AlignedFree>(p);
}

}  // namespace

PrepackTarget ParsePrepackTarget(const std::string& value) {
  const uint32_t host = DetectCpuFeatures();
  PrepackTarget t{value, 0};
  if (value == "none") return t;
  if (value == "auto") {
    t.cpu_features = host;
    return t;
  }
  if (value == "avx512") {
    t.cpu_features = kCpuX86Avx2Fma | kCpuX86Avx512 | kCpuX86Avx512Vnni;
  } else if (value == "avx2") {
    t.cpu_features = kCpuX86Avx2Fma;
  } else if (value == "neon") {
    t.cpu_features = kCpuArmNeon | kCpuArmDotProd;
  } else {
    throw std::invalid_argument("--prepack must be auto, none, avx512, avx2 or neon");
  }
  // Only the features this host has: a CPU with AVX-512 but without VNNI still packs the fp32
  // kernels' layout; a target this host cannot run at all is refused.
  const uint32_t usable = t.cpu_features & host;
  const uint32_t base = value == "neon" ? kCpuArmNeon
                        : value == "avx2" ? kCpuX86Avx2Fma
                                          : (kCpuX86Avx2Fma | kCpuX86Avx512);
  if ((usable & base) != base)
    throw std::invalid_argument("--prepack " + value +
                                ": this host cannot run those kernels' packing code; compile "
                                "on such a CPU, or use --prepack auto or none");
  t.cpu_features = usable;
  return t;
}

uint64_t CachedPackedFileBytes(const uint8_t* opm, size_t size) {
  auto file = AlignedZeros(size);
  std::memcpy(file.get(), opm, size);
  Model model;
  if (model.Load(file.get(), size) != Status::kOk) return 0;
  uint64_t total = 0;
  for (int i = 0; i < model.num_operators(); ++i) {
    const auto* packed = model.fb()->operators()->Get(i)->packed();
    if (packed == nullptr) continue;
    for (const opm::PackedWeights* pw : *packed)
      total += (model.BufferSize(pw->buffer()) + kConstantAlignment - 1) / kConstantAlignment *
               kConstantAlignment;
  }
  return total < size ? total : 0;
}

PrepackResult PrepackOpm(const std::vector<uint8_t>& opm, const PrepackTarget& target) {
  PrepackResult r;
  if (target.name == "none") {
    r.bytes = opm;
    return r;
  }
  auto file = AlignedZeros(opm.size());
  std::memcpy(file.get(), opm.data(), opm.size());
  ErrorReporter err;
  Model model;
  if (model.Load(file.get(), opm.size(), &err) != Status::kOk)
    throw std::runtime_error(std::string("prepack: ") + err.message());

  // The kernels this target's CPU would choose, run exactly as a device runs them: their
  // prepare writes the packed layout into a zeroed arena, as a device's calloc'd one.
  AllOpsResolver resolver;
  if (RegisterAllKernels(resolver) != Status::kOk)
    throw std::runtime_error("prepack: kernel table larger than the resolver");
  resolver.set_cpu_features(target.cpu_features);
  ArenaRequirement need;
  if (Interpreter::Measure(model, resolver, &need, &err) != Status::kOk)
    throw std::runtime_error(std::string("prepack: ") + err.message());
  auto arena = AlignedZeros(need.total_bytes);
  Interpreter interp;
  if (interp.Init(model, resolver, arena.get(), need.total_bytes + 64, &err) != Status::kOk)
    throw std::runtime_error(std::string("prepack: ") + err.message());

  std::unique_ptr<opm::ModelT> m(model.fb()->UnPack());
  std::vector<std::vector<uint8_t>> payloads;
  for (int b = 0; b < static_cast<int>(m->buffers.size()); ++b) {
    // Plain data: WriteOpmBytes chooses each buffer's encoding again.
    payloads.emplace_back(static_cast<size_t>(model.BufferDenseSize(b)));
    if (!payloads.back().empty()) model.DecodeBuffer(b, payloads.back().data());
  }
  for (int i = 0; i < interp.num_operators(); ++i) {
    if (!m->operators[i]->packed.empty())
      throw std::runtime_error("prepack: the model already carries packed weights");
    const KernelRegistration* k = interp.kernel(i);
    size_t bytes = 0;
    const void* packed = interp.packed(i, &bytes);
    if (k->packed_layout == nullptr || packed == nullptr || bytes == 0) continue;
    auto pw = std::make_unique<opm::PackedWeightsT>();
    pw->layout = k->packed_layout;
    pw->buffer = static_cast<int32_t>(payloads.size());
    const auto* p = static_cast<const uint8_t*>(packed);
    payloads.emplace_back(p, p + bytes);
    m->operators[i]->packed.push_back(std::move(pw));
    ++r.operators;
    r.packed_bytes += bytes;
    r.entries.push_back({i, k->packed_layout, bytes});
  }
  if (r.operators == 0) {
    r.bytes = opm;
    return r;
  }
  r.bytes = WriteOpmBytes(std::move(*m), payloads);
  return r;
}

}  // namespace outpost::emit
