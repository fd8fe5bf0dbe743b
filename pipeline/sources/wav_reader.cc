#include "pipeline/sources/wav_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numbers>

namespace outpost::pipeline {
namespace {

uint16_t U16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t U32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

constexpr uint16_t kPcm = 1, kFloat = 3, kExtensible = 0xFFFE;

}  // namespace

Expected<WavAudio> ParseWav(std::span<const uint8_t> bytes, const std::string& name) {
  if (bytes.size() < 12 || std::memcmp(bytes.data(), "RIFF", 4) != 0 ||
      std::memcmp(bytes.data() + 8, "WAVE", 4) != 0)
    return Error(name + ": not a WAV file (no RIFF/WAVE header)");
  uint16_t format = 0, channels = 0, bits = 0, block_align = 0;
  uint32_t rate = 0;
  bool have_fmt = false;
  size_t pos = 12;
  while (pos + 8 <= bytes.size()) {
    const uint8_t* chunk = bytes.data() + pos;
    const uint64_t size = U32(chunk + 4);
    const size_t body = pos + 8;
    const size_t available = bytes.size() - body;
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      if (size < 16 || size > available) return Error(name + ": truncated WAV fmt chunk");
      const uint8_t* f = bytes.data() + body;
      format = U16(f);
      channels = U16(f + 2);
      rate = U32(f + 4);
      block_align = U16(f + 12);
      bits = U16(f + 14);
      // WAVE_FORMAT_EXTENSIBLE carries the real format in the first two bytes of its GUID.
      if (format == kExtensible) {
        if (size < 26) return Error(name + ": truncated WAVE_FORMAT_EXTENSIBLE fmt chunk");
        format = U16(f + 24);
      }
      have_fmt = true;
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      if (!have_fmt) return Error(name + ": WAV data chunk before the fmt chunk");
      if (format != kPcm && format != kFloat)
        return Error(name + ": WAV sample format " + std::to_string(format) +
                     " is not supported (PCM 16-bit and IEEE float 32-bit are)");
      if ((format == kPcm && bits != 16) || (format == kFloat && bits != 32))
        return Error(name + ": " + std::to_string(bits) + "-bit " +
                     (format == kPcm ? "PCM" : "float") +
                     " WAV is not supported (PCM 16-bit and IEEE float 32-bit are)");
      if (channels == 0 || channels > 64)
        return Error(name + ": WAV has " + std::to_string(channels) + " channels");
      if (rate < 1000 || rate > 768000)
        return Error(name + ": WAV sample rate " + std::to_string(rate) + " Hz is out of range");
      if (block_align != channels * bits / 8)
        return Error(name + ": WAV block align " + std::to_string(block_align) +
                     " does not match " + std::to_string(channels) + " channels of " +
                     std::to_string(bits) + " bits");
      const size_t frames = static_cast<size_t>(std::min<uint64_t>(size, available)) / block_align;
      WavAudio a;
      a.sample_rate = static_cast<int>(rate);
      a.channels = channels;
      a.samples.resize(frames);
      const uint8_t* d = bytes.data() + body;
      const float inv_channels = 1.0f / static_cast<float>(channels);
      for (size_t i = 0; i < frames; ++i) {
        float sum = 0;
        for (int c = 0; c < channels; ++c) {
          const uint8_t* s = d + i * block_align + static_cast<size_t>(c) * (bits / 8);
          if (format == kPcm) {
            sum += static_cast<float>(static_cast<int16_t>(U16(s))) * (1.0f / 32768.0f);
          } else {
            const uint32_t u = U32(s);
            float v;
            std::memcpy(&v, &u, sizeof(v));
            sum += std::isfinite(v) ? v : 0.0f;  // a NaN sample would poison every feature
          }
        }
        a.samples[i] = sum * inv_channels;
      }
      return a;
    }
    pos = body + size + (size & 1);  // chunks are padded to an even size
  }
  return Error(name + (have_fmt ? ": WAV file has no data chunk" : ": WAV file has no fmt chunk"));
}

Expected<WavAudio> ReadWavFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error(path + ": cannot open");
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                   std::istreambuf_iterator<char>());
  return ParseWav(bytes, path);
}

std::vector<float> Resample(std::span<const float> in, int in_rate, int out_rate) {
  if (in_rate == out_rate || in.empty()) return {in.begin(), in.end()};
  constexpr double kZeroCrossings = 16;
  const double ratio = static_cast<double>(out_rate) / in_rate;
  const double cutoff = std::min(1.0, ratio);         // of the input's Nyquist frequency
  const double half_width = kZeroCrossings / cutoff;  // in input samples
  const size_t n_out = static_cast<size_t>(static_cast<uint64_t>(in.size()) * out_rate / in_rate);
  const int64_t n_in = static_cast<int64_t>(in.size());
  std::vector<float> out(n_out);
  for (size_t j = 0; j < n_out; ++j) {
    const double t = static_cast<double>(j) / ratio;
    const int64_t first = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(t - half_width)));
    const int64_t last =
        std::min<int64_t>(n_in - 1, static_cast<int64_t>(std::floor(t + half_width)));
    double sum = 0, weights = 0;
    for (int64_t i = first; i <= last; ++i) {
      const double d = static_cast<double>(i) - t;
      const double x = std::numbers::pi * cutoff * d;
      const double sinc = x == 0 ? 1.0 : std::sin(x) / x;
      const double window = 0.5 + 0.5 * std::cos(std::numbers::pi * d / half_width);
      const double w = sinc * window;
      sum += w * in[static_cast<size_t>(i)];
      weights += w;
    }
    out[j] = weights != 0 ? static_cast<float>(sum / weights) : 0.0f;
  }
  return out;
}

}  // namespace outpost::pipeline
