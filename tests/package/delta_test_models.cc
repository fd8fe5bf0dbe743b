#include "tests/package/delta_test_models.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "package/delta_header.h"
#include "package/opm_buffers.h"

namespace outpost::testing {

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<uint8_t> SmallModel() {
  return ReadBytes(std::string(OUTPOST_SOURCE_DIR) + "/tests/fuzz/corpus/valid_small.opm");
}

std::vector<uint8_t> WithChangedBuffer(std::vector<uint8_t> opm, int index, uint8_t salt) {
  const auto buffers = package::ReadVerifiedBuffers(opm, "model").value();
  if (index < 0 || index >= static_cast<int>(buffers.size()) || buffers[index].size == 0)
    throw std::runtime_error("no such non-empty buffer");
  const package::OpmBuffer& b = buffers[index];
  // The stored hash is the only copy of these 32 bytes in the graph section.
  const auto at = std::search(opm.begin(), opm.begin() + b.offset, b.hash.begin(), b.hash.end());
  if (at == opm.begin() + b.offset) throw std::runtime_error("stored hash not found");
  for (uint64_t i = 0; i < std::min<uint64_t>(b.size, 16); ++i) opm[b.offset + i] += salt;
  const package::Hash256 h =
      package::Blake2b256(std::span<const uint8_t>(opm.data() + b.offset, b.size));
  std::copy(h.begin(), h.end(), at);
  return opm;
}

}  // namespace outpost::testing
