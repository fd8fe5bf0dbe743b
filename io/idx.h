// IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
// a 4-byte magic (0, 0, element type, rank), `rank` big-endian uint32 dimensions, then the
// big-endian data. Gzipped files (.gz) are read transparently.
#pragma once

#include <cstdint>
#include <string>

#include "common/expected.h"
#include "io/host_tensor.h"

namespace outpost::io {

// Reads a whole IDX file, gzipped or not. The data is converted to host byte order. Errors
// name the path and the problem (bad magic, unknown type, truncated data, trailing bytes).
Expected<HostTensor> ReadIdx(const std::string& path);

// A labelled image set: images [N, H, W] uint8 and labels [N] uint8.
struct IdxImageSet {
  HostTensor images;
  HostTensor labels;
  int64_t count() const { return images.shape.empty() ? 0 : images.shape[0]; }
  int height() const { return static_cast<int>(images.shape[1]); }
  int width() const { return static_cast<int>(images.shape[2]); }
  const uint8_t* image(int64_t i) const {
    return images.bytes.data() + i * images.shape[1] * images.shape[2];
  }
  int label(int64_t i) const { return labels.bytes[static_cast<size_t>(i)]; }
};

// Reads and cross-checks an image file and a label file (same count, uint8, rank 3 and 1).
Expected<IdxImageSet> ReadIdxImageSet(const std::string& images_path,
                                      const std::string& labels_path);

}  // namespace outpost::io
