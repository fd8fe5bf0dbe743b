// Writes the bad-model corpus: make_bad_corpus OUT_DIR
#include <cstdio>
#include <fstream>

#include "tests/fuzz/bad_models.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_bad_corpus OUT_DIR\n");
    return 2;
  }
  for (const auto& [name, bytes] : outpost::fuzz::MakeBadModels()) {
    std::ofstream out(std::string(argv[1]) + "/" + name + ".opm", std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) return 1;
  }
  std::ofstream good(std::string(argv[1]) + "/../valid_small.opm", std::ios::binary);
  const auto v = outpost::fuzz::MakeValidModel();
  good.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size()));
  return good ? 0 : 1;
}
