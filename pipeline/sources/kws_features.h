// The MLPerf Tiny keyword-spotting front end (the input of the zoo's kws_dscnn: 49 frames x
// 10 MFCC coefficients for 1 s of 16 kHz audio), computed as its TensorFlow reference does
// with tf.signal:
//
//   frames of 480 samples (30 ms) every 320 samples (20 ms), no padding
//   -> periodic Hann window -> |512-point real FFT| (257 bins, magnitude, not power)
//   -> 40 triangular mel filters, 20..4000 Hz, HTK mel scale, DC bin excluded
//      (tf.signal.linear_to_mel_weight_matrix)
//   -> log(mel + 1e-6)
//   -> DCT-II scaled by 1 / sqrt(2 * 40), first 10 coefficients
//      (tf.signal.mfccs_from_log_mel_spectrograms)
//
// All tables are computed once; extracting features does not allocate.
#pragma once

#include <array>
#include <vector>

namespace outpost::pipeline {

class KwsFeatures {
 public:
  static constexpr int kSampleRate = 16000;
  static constexpr int kFrameLength = 480;
  static constexpr int kFrameStep = 320;
  static constexpr int kFftLength = 512;
  static constexpr int kBins = kFftLength / 2 + 1;
  static constexpr int kMelBins = 40;
  static constexpr int kMfccs = 10;
  static constexpr float kLogOffset = 1e-6f;

  KwsFeatures();

  // Feature frames in `num_samples` samples: 1 + (n - 480) / 320, 0 when shorter than a frame.
  static int NumFrames(int num_samples);

  // frames x 40 log-mel energies / frames x 10 MFCCs, row-major.
  void LogMel(const float* samples, int num_samples, float* out);
  void Mfcc(const float* samples, int num_samples, float* out);

 private:
  // |X[k]|, k = 0..256, of one windowed frame.
  void MagnitudeSpectrum(const float* frame, float* magnitude);
  // The complex FFT of kFftLength / 2 points (re, im in place), radix 2.
  void HalfFft(float* re, float* im) const;

  std::array<float, kFrameLength> window_;
  // Mel filter m covers bins [mel_first_[m], mel_first_[m] + mel_weights_[m].size()).
  std::array<int, kMelBins> mel_first_;
  std::array<std::vector<float>, kMelBins> mel_weights_;
  std::array<float, kMfccs * kMelBins> dct_;
  std::vector<int> bit_reverse_;
  std::vector<float> twiddle_re_, twiddle_im_;  // e^{-2 pi i k / 256}
  std::vector<float> split_re_, split_im_;      // e^{-2 pi i k / 512}, real-FFT split step
  std::array<float, kFftLength / 2> re_, im_;
  std::array<float, kBins> magnitude_;
};

}  // namespace outpost::pipeline
