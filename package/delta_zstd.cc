#include "package/delta_zstd.h"

#include <zstd.h>

#include <algorithm>
#include <memory>
#include <string>

namespace outpost::package {
namespace {

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Output grows by this much at a time: bounded memory ahead of what the frame really holds.
constexpr size_t kChunk = 1 << 20;

}  // namespace

Expected<std::vector<uint8_t>> ZstdCompress(std::span<const uint8_t> bytes, int level,
                                            std::span<const uint8_t> prefix) {
  std::unique_ptr<ZSTD_CCtx, CCtxFree> c(ZSTD_createCCtx());
  if (!c) return Error("delta: zstd: out of memory");
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_checksumFlag, 0);
  if (!prefix.empty()) ZSTD_CCtx_refPrefix(c.get(), prefix.data(), prefix.size());
  std::vector<uint8_t> out(ZSTD_compressBound(bytes.size()));
  const size_t n = ZSTD_compress2(c.get(), out.data(), out.size(), bytes.data(), bytes.size());
  if (ZSTD_isError(n)) return Error(std::string("delta: zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Expected<std::vector<uint8_t>> ZstdDecompressBounded(std::span<const uint8_t> frame,
                                                     uint64_t declared_bytes,
                                                     std::span<const uint8_t> prefix) {
  std::unique_ptr<ZSTD_DCtx, DCtxFree> d(ZSTD_createDCtx());
  if (!d) return Error("delta: zstd: out of memory");
  // Frames asking for a window above 128 MiB (zstd's default bound) are refused: the window
  // is memory the decoder would allocate on the frame's say-so.
  ZSTD_DCtx_setParameter(d.get(), ZSTD_d_windowLogMax, 27);
  if (!prefix.empty() && ZSTD_isError(ZSTD_DCtx_refPrefix(d.get(), prefix.data(), prefix.size())))
    return Error("delta: zstd: cannot use the base as prefix");
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  std::vector<uint8_t> out;
  for (;;) {
    // Room for one byte past the declared size: producing it proves the frame is too big.
    const uint64_t room64 = std::min<uint64_t>(kChunk, declared_bytes + 1 - out.size());
    const size_t room = static_cast<size_t>(room64);
    const size_t before = out.size();
    out.resize(before + room);
    ZSTD_outBuffer ob{out.data() + before, room, 0};
    const size_t ret = ZSTD_decompressStream(d.get(), &ob, &in);
    out.resize(before + ob.pos);
    if (ZSTD_isError(ret))
      return Error(std::string("delta: body does not decompress: ") + ZSTD_getErrorName(ret));
    if (out.size() > declared_bytes)
      return Error("delta: body decompresses to more than the declared " +
                   std::to_string(declared_bytes) + " bytes");
    if (ret == 0) break;  // frame complete
    if (in.pos == in.size && ob.pos < room)
      return Error("delta: compressed body is truncated");
  }
  if (in.pos != in.size)
    return Error("delta: " + std::to_string(in.size - in.pos) +
                 " bytes after the end of the compressed body");
  if (out.size() != declared_bytes)
    return Error("delta: body decompresses to " + std::to_string(out.size()) +
                 " bytes, the header declares " + std::to_string(declared_bytes));
  return out;
}

}  // namespace outpost::package
