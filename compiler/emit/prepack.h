// Caches optimized kernels' packed weights in a .opm model (format 1.4, Operator.packed): the
// kernels' own prepare packs them, for the instruction set chosen, and the bytes are stored as
// extra constant buffers tagged with the kernel's packed layout. A runtime whose kernel has
// exactly that layout reads them in place from the model instead of packing at load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace outpost::emit {

struct PrepackTarget {
  std::string name;        // "none", "auto", "avx512", "avx2", "neon"
  uint32_t cpu_features;   // kernels packed for: those a CPU with these features would choose
};

// Parses --prepack: none|auto|avx512|avx2|neon. `auto` is the CPU this runs on. A target whose
// packing code this host cannot run (another architecture, or instructions it lacks) is an
// error: the packing routines are compiled for their instruction set.
PrepackTarget ParsePrepackTarget(const std::string& value);

struct PrepackResult {
  std::vector<uint8_t> bytes;
  int operators = 0;          // operators given cached packed weights
  uint64_t packed_bytes = 0;  // bytes added to the data section (before alignment)
  struct Entry {
    int op;
    std::string layout;
    uint64_t bytes;
  };
  std::vector<Entry> entries;  // one per operator given cached packed weights
};

// Bytes of the data section that hold cached packed weights (each buffer with its alignment
// padding); 0 for a model without them or one that fails to load.
uint64_t CachedPackedFileBytes(const uint8_t* opm, size_t size);

// `opm` must carry no cached packed weights yet. With target "none" returns `opm` unchanged.
PrepackResult PrepackOpm(const std::vector<uint8_t>& opm, const PrepackTarget& target);

}  // namespace outpost::emit
