// Hostile and broken .opm files, each built from a valid model by one deliberate corruption.
// make_bad_corpus writes them to tests/fuzz/corpus/bad/ (committed); the corpus test checks
// that the runtime refuses every one with a clear message, and the fuzzer starts from them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace outpost::fuzz {

// A small valid model: conv + relu + reshape + fully connected + softmax.
std::vector<uint8_t> MakeValidModel();

// (name, bytes) of every corruption.
std::vector<std::pair<std::string, std::vector<uint8_t>>> MakeBadModels();

}  // namespace outpost::fuzz
