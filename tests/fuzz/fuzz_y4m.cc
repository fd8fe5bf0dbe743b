// libFuzzer target: arbitrary bytes through the Y4M reader (header, FRAME lines, planes and
// the YUV to RGB conversion), reading every frame. Any crash, sanitizer report or hang is a bug.
#include <sstream>

#include "pipeline/sources/y4m_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using outpost::pipeline::Y4mReader;
  auto stream =
      std::make_unique<std::istringstream>(std::string(reinterpret_cast<const char*>(data), size));
  auto reader = Y4mReader::Open(std::move(stream), "fuzz.y4m");
  if (!reader) return 0;
  std::vector<uint8_t> rgb;
  for (int i = 0; i < 64; ++i) {
    auto got = (*reader)->ReadFrame(rgb);
    if (!got.ok() || !*got) break;
  }
  return 0;
}
