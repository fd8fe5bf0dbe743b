#include "package/opm_buffers.h"

#include <cstdlib>
#include <cstring>
#include <memory>

#include "runtime/error_reporter.h"
#include "runtime/model.h"

namespace outpost::package {
namespace {

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};

}  // namespace

Expected<std::vector<OpmBuffer>> ReadVerifiedBuffers(std::span<const uint8_t> opm,
                                                     const std::string& name) {
  // The reader wants aligned bytes (it reads weights in place); a span carries no alignment.
  const size_t padded = (opm.size() + kConstantAlignment - 1) / kConstantAlignment *
                        kConstantAlignment;
  std::unique_ptr<uint8_t, FreeDeleter> copy(
      static_cast<uint8_t*>(std::aligned_alloc(kConstantAlignment, padded ? padded : kConstantAlignment)));
  if (!copy) return Error(name + ": out of memory");
  if (!opm.empty()) std::memcpy(copy.get(), opm.data(), opm.size());
  Model model;
  ErrorReporter errors;
  if (model.Load(copy.get(), opm.size(), &errors) != Status::kOk)
    return Error(name + ": " + errors.message());
  const auto* buffers = model.fb()->buffers();
  std::vector<OpmBuffer> out;
  const uint32_t count = buffers ? buffers->size() : 0;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const opm::Buffer* b = buffers->Get(i);
    OpmBuffer ob;
    ob.offset = b->offset();
    ob.size = b->size();
    // Buffers no tensor uses are not checked by the reader: check their range here.
    if (ob.offset > opm.size() || ob.size > opm.size() - ob.offset)
      return Error(name + ": buffer " + std::to_string(i) + " lies outside the file");
    ob.hash = Blake2b256(opm.subspan(ob.offset, ob.size));
    const auto* stored = b->hash();
    if (!stored || stored->size() != ob.hash.size() ||
        std::memcmp(stored->data(), ob.hash.data(), ob.hash.size()) != 0)
      return Error(name + ": buffer " + std::to_string(i) +
                   " does not match its stored content hash");
    out.push_back(ob);
  }
  return out;
}

}  // namespace outpost::package
