#include "tools/outpost/prepack_option.h"

#include <iostream>
#include <stdexcept>

#include "tools/outpost/cli_util.h"

namespace outpost::cli {

void AddPrepackOption(CLI::App* app, std::string* value) {
  app->add_option("--prepack", *value,
                  "Cache packed weights in the model for these kernels: none (default), auto "
                  "(this CPU), avx512, avx2 or neon; loading then skips packing on a CPU that "
                  "chooses the same kernels, at the cost of a larger file")
      ->default_val("none");
}

emit::PrepackTarget ParsePrepack(const std::string& value) {
  try {
    return emit::ParsePrepackTarget(value);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

void PrintPrepack(const emit::PrepackTarget& target, const emit::PrepackResult& result) {
  std::cout << "  prepack:    ";
  if (target.name == "none") {
    std::cout << "none\n";
  } else if (result.operators == 0) {
    std::cout << target.name << ": no kernel packs weights for this model\n";
  } else {
    std::cout << target.name << ": " << result.operators << " operators, "
              << FormatBytesExact(result.packed_bytes) << " of packed weights cached (file "
              << FormatBytesExact(result.bytes.size()) << ")\n";
    for (const auto& e : result.entries)
      std::cout << "              op " << e.op << ": " << e.layout << ", "
                << FormatBytesExact(e.bytes) << "\n";
  }
}

}  // namespace outpost::cli
