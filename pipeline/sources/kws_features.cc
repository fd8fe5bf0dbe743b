#include "pipeline/sources/kws_features.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace outpost::pipeline {
namespace {

constexpr int kHalf = KwsFeatures::kFftLength / 2;

double HertzToMel(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

}  // namespace

KwsFeatures::KwsFeatures() {
  const double pi = std::numbers::pi;
  for (int n = 0; n < kFrameLength; ++n)  // periodic Hann, tf.signal.hann_window's default
    window_[n] = static_cast<float>(0.5 - 0.5 * std::cos(2 * pi * n / kFrameLength));

  // tf.signal.linear_to_mel_weight_matrix(40, 257, 16000, 20, 4000).
  const double lo = HertzToMel(20.0), hi = HertzToMel(4000.0);
  for (int m = 0; m < kMelBins; ++m) {
    const double left = lo + (hi - lo) * m / (kMelBins + 1);
    const double center = lo + (hi - lo) * (m + 1) / (kMelBins + 1);
    const double right = lo + (hi - lo) * (m + 2) / (kMelBins + 1);
    mel_first_[m] = kBins;
    for (int k = 1; k < kBins; ++k) {  // bin 0 (DC) is left out
      const double mel = HertzToMel(k * (kSampleRate / 2.0) / (kBins - 1));
      const double w =
          std::max(0.0, std::min((mel - left) / (center - left), (right - mel) / (right - center)));
      if (w <= 0) {
        if (mel_first_[m] < kBins) break;
        continue;
      }
      if (mel_first_[m] == kBins) mel_first_[m] = k;
      mel_weights_[m].push_back(static_cast<float>(w));
    }
  }

  // DCT-II, unnormalized (2 sum x cos), times 1 / sqrt(2 N).
  const double scale = 2.0 / std::sqrt(2.0 * kMelBins);
  for (int c = 0; c < kMfccs; ++c)
    for (int m = 0; m < kMelBins; ++m)
      dct_[c * kMelBins + m] =
          static_cast<float>(scale * std::cos(pi * c * (2 * m + 1) / (2.0 * kMelBins)));

  int bits = 0;
  while ((1 << bits) < kHalf) ++bits;
  bit_reverse_.resize(kHalf);
  for (int i = 0; i < kHalf; ++i) {
    int r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    bit_reverse_[i] = r;
  }
  for (int k = 0; k < kHalf / 2; ++k) {
    twiddle_re_.push_back(static_cast<float>(std::cos(2 * pi * k / kHalf)));
    twiddle_im_.push_back(static_cast<float>(-std::sin(2 * pi * k / kHalf)));
  }
  for (int k = 0; k <= kHalf; ++k) {
    split_re_.push_back(static_cast<float>(std::cos(2 * pi * k / kFftLength)));
    split_im_.push_back(static_cast<float>(-std::sin(2 * pi * k / kFftLength)));
  }
}

int KwsFeatures::NumFrames(int num_samples) {
  return num_samples < kFrameLength ? 0 : 1 + (num_samples - kFrameLength) / kFrameStep;
}

void KwsFeatures::HalfFft(float* re, float* im) const {
  for (int i = 0; i < kHalf; ++i) {
    const int j = bit_reverse_[i];
    if (j > i) {
      std::swap(re[i], re[j]);
      std::swap(im[i], im[j]);
    }
  }
  for (int len = 2; len <= kHalf; len <<= 1) {
    const int half = len / 2, step = kHalf / len;
    for (int start = 0; start < kHalf; start += len) {
      // Contiguous butterflies within a block, so the inner loop vectorizes for len >= 8.
      float* ar = re + start;
      float* ai = im + start;
      float* br = ar + half;
      float* bi = ai + half;
      for (int j = 0; j < half; ++j) {
        const float wr = twiddle_re_[j * step], wi = twiddle_im_[j * step];
        const float vr = br[j] * wr - bi[j] * wi;
        const float vi = br[j] * wi + bi[j] * wr;
        br[j] = ar[j] - vr;
        bi[j] = ai[j] - vi;
        ar[j] += vr;
        ai[j] += vi;
      }
    }
  }
}

void KwsFeatures::MagnitudeSpectrum(const float* frame, float* magnitude) {
  // A real 512-point FFT as a complex 256-point FFT of (even, odd) sample pairs, then split.
  float* re = re_.data();
  float* im = im_.data();
  for (int k = 0; k < kHalf; ++k) {
    const int n = 2 * k;
    re[k] = n < kFrameLength ? frame[n] * window_[n] : 0.0f;
    im[k] = n + 1 < kFrameLength ? frame[n + 1] * window_[n + 1] : 0.0f;
  }
  HalfFft(re, im);
  for (int k = 0; k <= kHalf; ++k) {
    const int a = k % kHalf, b = (kHalf - k) % kHalf;
    const float er = 0.5f * (re[a] + re[b]), ei = 0.5f * (im[a] - im[b]);
    const float orr = 0.5f * (im[a] + im[b]), oi = -0.5f * (re[a] - re[b]);
    const float wr = split_re_[k], wi = split_im_[k];
    const float xr = er + wr * orr - wi * oi;
    const float xi = ei + wr * oi + wi * orr;
    magnitude[k] = std::sqrt(xr * xr + xi * xi);
  }
}

void KwsFeatures::LogMel(const float* samples, int num_samples, float* out) {
  const int frames = NumFrames(num_samples);
  for (int f = 0; f < frames; ++f) {
    MagnitudeSpectrum(samples + static_cast<size_t>(f) * kFrameStep, magnitude_.data());
    float* row = out + static_cast<size_t>(f) * kMelBins;
    for (int m = 0; m < kMelBins; ++m) {
      const float* mag = magnitude_.data() + mel_first_[m];
      const std::vector<float>& w = mel_weights_[m];
      float sum = 0;
      for (size_t k = 0; k < w.size(); ++k) sum += w[k] * mag[k];
      row[m] = std::log(sum + kLogOffset);
    }
  }
}

void KwsFeatures::Mfcc(const float* samples, int num_samples, float* out) {
  const int frames = NumFrames(num_samples);
  float log_mel[kMelBins];
  for (int f = 0; f < frames; ++f) {
    LogMel(samples + static_cast<size_t>(f) * kFrameStep, kFrameLength, log_mel);
    float* row = out + static_cast<size_t>(f) * kMfccs;
    for (int c = 0; c < kMfccs; ++c) {
      float sum = 0;
      for (int m = 0; m < kMelBins; ++m) sum += dct_[c * kMelBins + m] * log_mel[m];
      row[c] = sum;
    }
  }
}

}  // namespace outpost::pipeline
