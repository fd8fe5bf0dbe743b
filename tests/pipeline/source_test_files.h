// Files the source tests write and read back: temporary paths, WAV and Y4M encoders.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace outpost::pipeline::testing {

// A path in the temporary directory, unique to this process.
std::string TempPath(const std::string& name);
void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes);
void WriteFile(const std::string& path, const std::string& text);

// A RIFF WAVE file of interleaved `samples` (channels per frame): 16-bit PCM or 32-bit float.
std::vector<uint8_t> WavBytes(const std::vector<float>& samples, int channels, int rate,
                              bool float32);

// A sine of `hz` at `rate` Hz, amplitude `amplitude`, `n` samples.
std::vector<float> Sine(double hz, int rate, int n, double amplitude = 0.5);

// A Y4M file of `frames` frames of one flat colour each (Y, U, V of frame i = colours[i]).
struct Yuv {
  uint8_t y, u, v;
};
std::string Y4mBytes(int width, int height, const std::string& chroma, const std::string& fps,
                     const std::vector<Yuv>& colours);

}  // namespace outpost::pipeline::testing
