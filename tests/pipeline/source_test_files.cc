#include "tests/pipeline/source_test_files.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>

namespace outpost::pipeline::testing {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("outpost_sources_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

namespace {

void Put(std::vector<uint8_t>& b, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void PutTag(std::vector<uint8_t>& b, const char* tag) { b.insert(b.end(), tag, tag + 4); }

}  // namespace

std::vector<uint8_t> WavBytes(const std::vector<float>& samples, int channels, int rate,
                              bool float32) {
  const int bits = float32 ? 32 : 16;
  const uint32_t data_bytes = static_cast<uint32_t>(samples.size() * (bits / 8));
  std::vector<uint8_t> b;
  PutTag(b, "RIFF");
  Put(b, 36 + data_bytes, 4);
  PutTag(b, "WAVE");
  PutTag(b, "fmt ");
  Put(b, 16, 4);
  Put(b, float32 ? 3 : 1, 2);
  Put(b, static_cast<uint32_t>(channels), 2);
  Put(b, static_cast<uint32_t>(rate), 4);
  Put(b, static_cast<uint32_t>(rate * channels * bits / 8), 4);
  Put(b, static_cast<uint32_t>(channels * bits / 8), 2);
  Put(b, static_cast<uint32_t>(bits), 2);
  PutTag(b, "data");
  Put(b, data_bytes, 4);
  for (float s : samples) {
    if (float32) {
      uint32_t u;
      std::memcpy(&u, &s, 4);
      Put(b, u, 4);
    } else {
      const long q = std::lround(std::clamp(s, -1.0f, 1.0f) * 32767.0f);
      Put(b, static_cast<uint32_t>(static_cast<uint16_t>(static_cast<int16_t>(q))), 2);
    }
  }
  return b;
}

std::vector<float> Sine(double hz, int rate, int n, double amplitude) {
  std::vector<float> s(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    s[i] = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * hz * i / rate));
  return s;
}

std::string Y4mBytes(int width, int height, const std::string& chroma, const std::string& fps,
                     const std::vector<Yuv>& colours) {
  std::string s = "YUV4MPEG2 W" + std::to_string(width) + " H" + std::to_string(height) + " F" +
                  fps + " Ip A1:1 C" + chroma + "\n";
  const size_t luma = static_cast<size_t>(width) * height;
  const size_t chroma_plane = chroma == "444" ? luma
                              : chroma == "mono"
                                  ? 0
                                  : static_cast<size_t>((width + 1) / 2) * ((height + 1) / 2);
  for (const Yuv& c : colours) {
    s += "FRAME\n";
    s.append(luma, static_cast<char>(c.y));
    s.append(chroma_plane, static_cast<char>(c.u));
    s.append(chroma_plane, static_cast<char>(c.v));
  }
  return s;
}

}  // namespace outpost::pipeline::testing
