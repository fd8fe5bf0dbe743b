#include "io/idx.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace outpost::io {
namespace {

constexpr int64_t kMaxBytes = int64_t{1} << 34;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

// Reads up to `n` bytes; throws on a decompression or I/O error.
size_t ReadSome(gzFile f, uint8_t* dst, size_t n, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
    const int got = gzread(f, dst + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      if (code == Z_ERRNO) throw Error(path + ": read error: " + std::strerror(errno));
      throw Error(path + ": corrupt gzip data: " + (msg ? msg : "unknown error"));
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  // A truncated gzip stream ends with a short read and a pending error.
  int code = 0;
  const char* msg = gzerror(f, &code);
  if (code != Z_OK && code != Z_BUF_ERROR)
    throw Error(path + ": corrupt gzip data: " + (msg ? msg : "unknown error"));
  if (code == Z_BUF_ERROR) throw Error(path + ": truncated gzip data (unexpected end of file)");
  return done;
}

ElementType IdxType(uint8_t code, const std::string& path) {
  switch (code) {
    case 0x08:
      return ElementType::kUint8;
    case 0x09:
      return ElementType::kInt8;
    case 0x0B:
      return ElementType::kInt16;
    case 0x0C:
      return ElementType::kInt32;
    case 0x0D:
      return ElementType::kFloat32;
    case 0x0E:
      return ElementType::kFloat64;
  }
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x", code);
  throw Error(path + ": not an IDX file (unknown element type " + buf + ")");
}

void SwapToHost(HostTensor& t) {
  const size_t e = ElementSize(t.type);
  if (e == 1) return;
  for (size_t i = 0; i + e <= t.bytes.size(); i += e) std::reverse(&t.bytes[i], &t.bytes[i + e]);
}

HostTensor ReadIdxOrThrow(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw Error(path + ": no such file");
    throw Error(path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, not a file");
  if (st.st_size == 0) throw Error(path + ": file is empty");
  GzPtr f(gzopen(path.c_str(), "rb"));
  if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
  gzbuffer(f.get(), 1 << 17);

  uint8_t magic[4];
  if (ReadSome(f.get(), magic, 4, path) != 4) throw Error(path + ": too short for an IDX file");
  if (magic[0] != 0 || magic[1] != 0)
    throw Error(path + ": not an IDX file (bad magic; expected 00 00 <type> <rank>)");
  HostTensor t;
  t.type = IdxType(magic[2], path);
  const int rank = magic[3];
  if (rank < 1 || rank > 6)
    throw Error(path + ": IDX rank " + std::to_string(rank) + " not supported (1..6)");
  int64_t bytes = static_cast<int64_t>(ElementSize(t.type));
  for (int i = 0; i < rank; ++i) {
    uint8_t d[4];
    if (ReadSome(f.get(), d, 4, path) != 4) throw Error(path + ": truncated IDX header");
    const int64_t dim = static_cast<int64_t>(d[0]) << 24 | d[1] << 16 | d[2] << 8 | d[3];
    if (dim == 0) throw Error(path + ": IDX dimension " + std::to_string(i) + " is zero");
    if (bytes > kMaxBytes / dim) throw Error(path + ": IDX data too large");
    bytes *= dim;
    t.shape.push_back(dim);
  }
  t.bytes.resize(static_cast<size_t>(bytes));
  const size_t got = ReadSome(f.get(), t.bytes.data(), t.bytes.size(), path);
  if (got != t.bytes.size())
    throw Error(path + ": truncated: header says " + ShapeString(t.shape) + " (" +
                std::to_string(bytes) + " data bytes), file has " + std::to_string(got));
  uint8_t extra;
  if (ReadSome(f.get(), &extra, 1, path) != 0)
    throw Error(path + ": unexpected bytes after the data declared by the header " +
                ShapeString(t.shape));
  SwapToHost(t);
  return t;
}

}  // namespace

Expected<HostTensor> ReadIdx(const std::string& path) {
  return Capture([&] { return ReadIdxOrThrow(path); });
}

Expected<IdxImageSet> ReadIdxImageSet(const std::string& images_path,
                                      const std::string& labels_path) {
  return Capture([&] {
    IdxImageSet set;
    set.images = ReadIdxOrThrow(images_path);
    set.labels = ReadIdxOrThrow(labels_path);
    if (set.images.type != ElementType::kUint8 || set.images.shape.size() != 3)
      throw Error(images_path + ": expected uint8 images [N, H, W], found " +
                  ShapeString(set.images.shape) + " " + ElementTypeName(set.images.type));
    if (set.labels.type != ElementType::kUint8 || set.labels.shape.size() != 1)
      throw Error(labels_path + ": expected uint8 labels [N], found " +
                  ShapeString(set.labels.shape) + " " + ElementTypeName(set.labels.type) +
                  (set.labels.shape.size() == 3 ? " (images and labels swapped?)" : ""));
    if (set.images.shape[0] != set.labels.shape[0])
      throw Error(images_path + " has " + std::to_string(set.images.shape[0]) + " images but " +
                  labels_path + " has " + std::to_string(set.labels.shape[0]) + " labels");
    return set;
  });
}

}  // namespace outpost::io
