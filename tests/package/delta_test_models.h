// Small models for delta tests, made from the committed tests/fuzz/corpus/valid_small.opm
// without the compiler: a constant buffer's bytes changed and its stored hash updated, which
// is what a retrained tensor looks like in the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace outpost::testing {

std::vector<uint8_t> ReadBytes(const std::string& path);
void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes);

// The committed small model (OUTPOST_SOURCE_DIR/tests/fuzz/corpus/valid_small.opm).
std::vector<uint8_t> SmallModel();

// `opm` with the first bytes of constant buffer `index` (in file order of the buffer table)
// changed by adding `salt`, and the buffer's stored content hash rewritten to match.
std::vector<uint8_t> WithChangedBuffer(std::vector<uint8_t> opm, int index, uint8_t salt = 1);

}  // namespace outpost::testing
