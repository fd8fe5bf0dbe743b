#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "pipeline/sources/source_makers.h"
#include "pipeline/sources/wav_reader.h"
#include "tests/pipeline/source_test_files.h"

namespace outpost::pipeline {
namespace {

using nlohmann::json;
using testing::Sine;
using testing::TempPath;
using testing::WavBytes;

// Amplitude of frequency `hz` in `x` (a single-bin DFT), for checking a resampled tone.
double ToneAmplitude(const std::vector<float>& x, double hz, int rate) {
  double re = 0, im = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double a = 2 * M_PI * hz * static_cast<double>(i) / rate;
    re += x[i] * std::cos(a);
    im -= x[i] * std::sin(a);
  }
  return 2 * std::hypot(re, im) / static_cast<double>(x.size());
}

TEST(WavReaderTest, Reads16BitAndFloatAndDownmixes) {
  const std::vector<float> tone = Sine(440, 8000, 800);
  Expected<WavAudio> a = ParseWav(WavBytes(tone, 1, 8000, false), "t.wav");
  ASSERT_TRUE(a.ok()) << a.message();
  EXPECT_EQ(a->sample_rate, 8000);
  ASSERT_EQ(a->samples.size(), 800u);
  for (size_t i = 0; i < tone.size(); ++i) EXPECT_NEAR(a->samples[i], tone[i], 1.0 / 32768) << i;

  // Stereo float: left = tone, right = -tone / 2; the mono mix is tone / 4.
  std::vector<float> stereo;
  for (float s : tone) {
    stereo.push_back(s);
    stereo.push_back(-s / 2);
  }
  a = ParseWav(WavBytes(stereo, 2, 8000, true), "s.wav");
  ASSERT_TRUE(a.ok()) << a.message();
  EXPECT_EQ(a->channels, 2);
  ASSERT_EQ(a->samples.size(), 800u);
  for (size_t i = 0; i < tone.size(); ++i) EXPECT_FLOAT_EQ(a->samples[i], tone[i] / 4) << i;
}

TEST(WavReaderTest, CorruptHeadersAreErrors) {
  const std::vector<uint8_t> good = WavBytes(Sine(100, 8000, 16), 1, 8000, false);
  auto message = [](std::vector<uint8_t> b) { return ParseWav(b, "w").message(); };
  EXPECT_NE(message({}).find("not a WAV"), std::string::npos);
  std::vector<uint8_t> b = good;
  b[8] = 'X';
  EXPECT_NE(message(b).find("not a WAV"), std::string::npos);
  b = good;
  b[20] = 2;  // format 2: ADPCM
  EXPECT_NE(message(b).find("format 2"), std::string::npos);
  b = good;
  b[34] = 8;  // 8 bits
  EXPECT_NE(message(b).find("8-bit PCM"), std::string::npos);
  b = good;
  b[22] = 0;  // no channels
  EXPECT_NE(message(b).find("0 channels"), std::string::npos);
  b = good;
  b[32] = 3;  // block align
  EXPECT_NE(message(b).find("block align"), std::string::npos);
  b = good;
  b[24] = b[25] = b[26] = b[27] = 0;  // 0 Hz
  EXPECT_NE(message(b).find("0 Hz"), std::string::npos);
  EXPECT_NE(message({good.begin(), good.begin() + 30}).find("fmt chunk"), std::string::npos);
  EXPECT_NE(message({good.begin(), good.begin() + 36}).find("no data chunk"), std::string::npos);
  // A data chunk cut short keeps its whole samples.
  Expected<WavAudio> cut = ParseWav({good.begin(), good.end() - 3}, "w");
  ASSERT_TRUE(cut.ok()) << cut.message();
  EXPECT_EQ(cut->samples.size(), 14u);
}

TEST(WavReaderTest, MutatedHeadersNeverCrash) {
  const std::vector<uint8_t> good = WavBytes(Sine(100, 8000, 64), 2, 8000, true);
  uint32_t state = 99;
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> b = good;
    state = state * 1664525u + 1013904223u;
    b[state % 48] = static_cast<uint8_t>(state >> 24);
    if (i % 4 == 0) b.resize(state % b.size());
    Expected<WavAudio> a = ParseWav(b, "m");
    if (a.ok()) {
      EXPECT_GT(a->sample_rate, 0);
      for (float s : a->samples) ASSERT_TRUE(std::isfinite(s));
    }
  }
}

TEST(ResampleTest, KeepsAToneAndItsDurationAndRemovesAliases) {
  const std::vector<float> in = Sine(1000, 44100, 44100);
  const std::vector<float> out = Resample(in, 44100, 16000);
  ASSERT_EQ(out.size(), 16000u);
  EXPECT_NEAR(ToneAmplitude(out, 1000, 16000), 0.5, 0.01);
  // 12 kHz is above the 8 kHz output Nyquist frequency: it must not fold to 4 kHz.
  const std::vector<float> high = Resample(Sine(12000, 44100, 44100), 44100, 16000);
  EXPECT_LT(ToneAmplitude(high, 4000, 16000), 0.01);
  // Upsampling keeps the tone too.
  const std::vector<float> up = Resample(Sine(440, 8000, 8000), 8000, 16000);
  ASSERT_EQ(up.size(), 16000u);
  EXPECT_NEAR(ToneAmplitude(up, 440, 16000), 0.5, 0.01);
  EXPECT_EQ(Resample(in, 44100, 44100), in);
}

std::unique_ptr<Source> MakeAudio(json options, const std::vector<uint8_t>& wav) {
  const std::string path = TempPath("audio.wav");
  testing::WriteFile(path, wav);
  options["path"] = path;
  Expected<std::unique_ptr<Source>> s = MakeAudioSource(options, "");
  EXPECT_TRUE(s.ok()) << s.message();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(AudioSourceTest, MfccWindowsEveryHop) {
  // 2 s at 16 kHz: 1 s windows every 250 ms -> 5 windows.
  auto s = MakeAudio({}, WavBytes(Sine(300, 16000, 32000), 1, 16000, false));
  ASSERT_TRUE(s);
  Frame f;
  int frames = 0;
  while (true) {
    Expected<bool> got = s->Next(f);
    ASSERT_TRUE(got.ok()) << got.message();
    if (!*got) break;
    ++frames;
    EXPECT_EQ(f.kind, Frame::Kind::kSamples);
    EXPECT_EQ(f.rows, 49);
    EXPECT_EQ(f.channels, 10);
    ASSERT_EQ(f.samples.size(), 490u);
  }
  EXPECT_EQ(frames, 5);
}

TEST(AudioSourceTest, LogMelRawResamplingAndPadding) {
  // 0.5 s at 48 kHz stereo float: resampled to 8000 samples, zero-padded to one 1 s window.
  std::vector<float> stereo;
  for (float v : Sine(200, 48000, 24000)) {
    stereo.push_back(v);
    stereo.push_back(v);
  }
  auto s = MakeAudio({{"features", "raw"}}, WavBytes(stereo, 2, 48000, true));
  ASSERT_TRUE(s);
  Frame f;
  ASSERT_TRUE(*s->Next(f));
  EXPECT_EQ(f.rows, 16000);
  EXPECT_EQ(f.channels, 1);
  EXPECT_GT(std::abs(f.samples[100]), 0.01f);
  EXPECT_EQ(f.samples[12000], 0.0f);
  EXPECT_FALSE(*s->Next(f));

  s = MakeAudio({{"features", "log_mel"}, {"hop_ms", 500}, {"loop", true}},
                WavBytes(Sine(300, 16000, 16000), 1, 16000, false));
  ASSERT_TRUE(s);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(*s->Next(f));  // looping: the one window again
  EXPECT_EQ(f.rows, 49);
  EXPECT_EQ(f.channels, 40);
  EXPECT_EQ(f.sequence, 2u);
}

TEST(AudioSourceTest, OptionErrors) {
  auto err = [](const json& o) { return MakeAudioSource(o, "").message(); };
  EXPECT_NE(err({{"path", "a.wav"}, {"gain", 2}}).find("unknown option 'gain'"), std::string::npos);
  EXPECT_NE(err({{"path", "a.wav"}, {"features", "mel"}}).find("'mel'"), std::string::npos);
  EXPECT_NE(err({{"path", "a.wav"}, {"sample_rate", 8000}}).find("16000"), std::string::npos);
  EXPECT_NE(err({{"path", "a.wav"}, {"hop_ms", 0}}).find("hop_ms"), std::string::npos);
  EXPECT_NE(err({{"path", "a.wav"}}).find("a.wav: cannot open"), std::string::npos);
  const std::string text = TempPath("not.wav");
  testing::WriteFile(text, std::string("plain text"));
  EXPECT_NE(err({{"path", text}}).find("not a WAV"), std::string::npos);
}

}  // namespace
}  // namespace outpost::pipeline
