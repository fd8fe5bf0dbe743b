#include "io/model_file.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "runtime/error_reporter.h"

namespace outpost::io {
namespace {

// The runtime prefixes its verifier messages with "model: "; the path says that already.
std::string WithoutModelPrefix(const char* message) {
  std::string s = message;
  if (s.rfind("model: ", 0) == 0) s.erase(0, 7);
  return s.empty() ? std::string("invalid model") : s;
}

void InitSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw Error("libsodium failed to initialize");
  });
}

std::string Hex(const uint8_t* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

}  // namespace

void LoadedModel::FreeDeleter::operator()(uint8_t* p) const { std::free(p); }

Expected<LoadedModel> LoadedModel::Verify(LoadedModel m, const uint8_t* data, size_t size) {
  ErrorReporter errors;
  const Status s = m.model_.Load(data, size, &errors);
  if (s != Status::kOk) {
    std::string why = errors.message()[0] != '\0' ? WithoutModelPrefix(errors.message())
                                                  : std::string(StatusName(s));
    return Error(m.path_ + ": " + why);
  }
  return m;
}

Expected<LoadedModel> LoadedModel::Open(const std::string& path) {
  Expected<MappedFile> file = MappedFile::Open(path);
  if (!file) return file.error();
  LoadedModel m;
  m.path_ = path;
  m.mapping_.emplace(std::move(file.value()));
  const uint8_t* data = m.mapping_->data();
  const size_t size = m.mapping_->size();
  return Verify(std::move(m), data, size);
}

Expected<LoadedModel> LoadedModel::FromBytes(const std::string& name,
                                             std::span<const uint8_t> bytes) {
  if (bytes.empty()) return Error(name + ": model is empty");
  const size_t rounded =
      (bytes.size() + kConstantAlignment - 1) / kConstantAlignment * kConstantAlignment;
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(kConstantAlignment, rounded));
  if (p == nullptr) return Error(name + ": out of memory");
  std::memcpy(p, bytes.data(), bytes.size());
  LoadedModel m;
  m.path_ = name;
  m.heap_.reset(p);
  return Verify(std::move(m), p, bytes.size());
}

std::string LoadedModel::TensorName(int index) const {
  const opm::Tensor* t = fb().tensors()->Get(index);
  if (t->name() != nullptr && t->name()->size() > 0) return t->name()->str();
  return "tensor " + std::to_string(index);
}

Expected<size_t> LoadedModel::VerifyContentHashes() const {
  return Capture([&]() -> size_t {
    InitSodium();
    const auto* buffers = fb().buffers();
    if (buffers == nullptr) return 0;
    size_t checked = 0;
    for (uint32_t b = 0; b < buffers->size(); ++b) {
      const opm::Buffer* buf = buffers->Get(b);
      if (buf->hash() == nullptr) continue;
      uint8_t got[32];
      crypto_generichash(got, sizeof(got), model_.BufferData(static_cast<int>(b)), buf->size(),
                         nullptr, 0);
      ++checked;
      if (std::memcmp(got, buf->hash()->data(), sizeof(got)) == 0) continue;
      // Name what the buffer holds: a tensor, or the self-test's golden data.
      std::string what = "buffer " + std::to_string(b);
      for (uint32_t t = 0; t < fb().tensors()->size(); ++t)
        if (fb().tensors()->Get(t)->buffer() == static_cast<int32_t>(b)) {
          what =
              "tensor '" + TensorName(static_cast<int>(t)) + "' (buffer " + std::to_string(b) + ")";
          break;
        }
      if (what.rfind("buffer", 0) == 0 && fb().self_test() != nullptr) what += " (self-test data)";
      throw Error(path_ + ": content hash mismatch for " + what + ": stored " +
                  Hex(buf->hash()->data(), 8) + "..., computed " + Hex(got, 8) +
                  "... (the data was modified after the model was written)");
    }
    return checked;
  });
}

}  // namespace outpost::io
