// The "audio" source: a WAV file, resampled once, cut into overlapping windows (1 s every
// 250 ms by default) and turned into keyword-spotting features per window.
#include <cmath>
#include <memory>

#include "pipeline/config/json_options.h"
#include "pipeline/config/pipeline_config.h"
#include "pipeline/sources/kws_features.h"
#include "pipeline/sources/source_makers.h"
#include "pipeline/sources/source_clock.h"
#include "pipeline/sources/wav_reader.h"

namespace outpost::pipeline {
namespace {

enum class Features { kMfcc, kLogMel, kRaw };

struct AudioOptions {
  std::string path;
  int sample_rate = KwsFeatures::kSampleRate;
  Features features = Features::kMfcc;
  int window_ms = 1000;
  int hop_ms = 250;
  bool loop = false;
  bool realtime = false;
};

class AudioSource final : public Source {
 public:
  AudioSource(AudioOptions o, WavAudio wav) : o_(std::move(o)), file_rate_(wav.sample_rate) {
    samples_ = Resample(wav.samples, wav.sample_rate, o_.sample_rate);
    window_ = static_cast<int>(static_cast<int64_t>(o_.window_ms) * o_.sample_rate / 1000);
    hop_ = std::max(1, static_cast<int>(static_cast<int64_t>(o_.hop_ms) * o_.sample_rate / 1000));
    // A clip shorter than one window (speech-command clips often are) is zero-padded to it.
    if (static_cast<int>(samples_.size()) < window_) samples_.resize(window_, 0.0f);
    if (o_.realtime) pacer_ = FramePacer(fps_value());
  }

  Expected<bool> Next(Frame& frame) override {
    if (start_ + static_cast<size_t>(window_) > samples_.size()) {
      if (!o_.loop) return false;
      start_ = 0;
    }
    if (o_.realtime) pacer_.Wait();
    const float* w = samples_.data() + start_;
    StampFrame(frame, Frame::Kind::kSamples, sequence_++, o_.path);
    if (o_.features == Features::kRaw) {
      frame.rows = window_;
      frame.channels = 1;
      frame.samples.assign(w, w + window_);
    } else {
      const bool mfcc = o_.features == Features::kMfcc;
      frame.rows = KwsFeatures::NumFrames(window_);
      frame.channels = mfcc ? KwsFeatures::kMfccs : KwsFeatures::kMelBins;
      frame.samples.resize(static_cast<size_t>(frame.rows) * frame.channels);
      if (mfcc)
        features_.Mfcc(w, window_, frame.samples.data());
      else
        features_.LogMel(w, window_, frame.samples.data());
    }
    start_ += static_cast<size_t>(hop_);
    return true;
  }

  std::string Describe() const override {
    static constexpr const char* kNames[] = {"mfcc", "log_mel", "raw"};
    return "audio " + o_.path + " (" + std::to_string(file_rate_) + " Hz -> " +
           std::to_string(o_.sample_rate) + " Hz, " + kNames[static_cast<int>(o_.features)] + ", " +
           std::to_string(o_.window_ms) + " ms windows every " + std::to_string(o_.hop_ms) + " ms)";
  }

  double fps() const override { return o_.realtime ? fps_value() : 0.0; }

 private:
  double fps_value() const { return 1000.0 / o_.hop_ms; }

  AudioOptions o_;
  int file_rate_;
  std::vector<float> samples_;
  int window_ = 0, hop_ = 0;
  size_t start_ = 0;
  uint64_t sequence_ = 0;
  KwsFeatures features_;
  FramePacer pacer_{1.0};
};

}  // namespace

Expected<std::unique_ptr<Source>> MakeAudioSource(const nlohmann::json& options,
                                                  const std::string& base_dir) {
  return Capture([&]() -> std::unique_ptr<Source> {
    constexpr std::string_view where = "audio source";
    CheckKeys(
        options, where,
        {"type", "path", "sample_rate", "features", "window_ms", "hop_ms", "loop", "realtime"});
    AudioOptions o;
    o.path = ReadOr<std::string>(options, where, "path", "");
    if (o.path.empty()) throw Error("audio source: option 'path' is required");
    o.path = ResolvePath(base_dir, o.path);
    o.sample_rate = ReadOr(options, where, "sample_rate", o.sample_rate);
    o.window_ms = ReadOr(options, where, "window_ms", o.window_ms);
    o.hop_ms = ReadOr(options, where, "hop_ms", o.hop_ms);
    o.loop = ReadOr(options, where, "loop", false);
    o.realtime = ReadOr(options, where, "realtime", false);
    const std::string features = ReadOr<std::string>(options, where, "features", "mfcc");
    if (features == "mfcc")
      o.features = Features::kMfcc;
    else if (features == "log_mel")
      o.features = Features::kLogMel;
    else if (features == "raw")
      o.features = Features::kRaw;
    else
      throw Error("audio source: features '" + features + "' is not one of mfcc, log_mel, raw");
    if (o.features != Features::kRaw && o.sample_rate != KwsFeatures::kSampleRate)
      throw Error("audio source: " + features +
                  " features are defined at 16000 Hz; use "
                  "\"sample_rate\": 16000 or \"features\": \"raw\"");
    if (o.sample_rate < 1000 || o.sample_rate > 192000)
      throw Error("audio source: sample_rate must be within 1000..192000 Hz");
    if (o.window_ms < 30 || o.window_ms > 60000)
      throw Error("audio source: window_ms must be within 30..60000");
    if (o.hop_ms < 1 || o.hop_ms > 60000)
      throw Error("audio source: hop_ms must be within 1..60000");
    Expected<WavAudio> wav = ReadWavFile(o.path);
    if (!wav) throw wav.error();
    return std::make_unique<AudioSource>(std::move(o), std::move(*wav));
  });
}

}  // namespace outpost::pipeline
