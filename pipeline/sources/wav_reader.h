// WAV files (RIFF WAVE): PCM 16-bit or IEEE float 32-bit, any channel count and sample rate,
// read whole and downmixed to mono floats in [-1, 1].
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::pipeline {

struct WavAudio {
  int sample_rate = 0;
  int channels = 0;            // in the file; `samples` is their average
  std::vector<float> samples;  // mono
};

// Parses a whole WAV file held in memory; `name` prefixes errors. A data chunk that claims
// more bytes than the file holds (a recording cut short, or a streaming writer that never
// filled the size in) is read up to the last whole sample frame.
Expected<WavAudio> ParseWav(std::span<const uint8_t> bytes, const std::string& name);
Expected<WavAudio> ReadWavFile(const std::string& path);

// Resamples `in` from `in_rate` to `out_rate` Hz with a Hann-windowed sinc (16 zero crossings
// each side, cut off at the lower Nyquist frequency, weights normalized to unit DC gain).
// Equal rates return the input unchanged.
std::vector<float> Resample(std::span<const float> in, int in_rate, int out_rate);

}  // namespace outpost::pipeline
