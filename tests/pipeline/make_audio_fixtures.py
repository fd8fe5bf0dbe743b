#!/usr/bin/python3
"""Writes kws_features_fixture.bin: a 1 s test signal and its MLPerf Tiny KWS features,
computed in float64 NumPy exactly as the TensorFlow reference front end defines them
(tf.signal.stft with a periodic Hann window, |FFT 512|, linear_to_mel_weight_matrix(40, 257,
16000, 20, 4000), log(mel + 1e-6), mfccs_from_log_mel_spectrograms, 10 coefficients).

Layout (little endian): int32 num_samples, int32 frames, int16 samples[num_samples],
float32 log_mel[frames][40], float32 mfcc[frames][10].

Run: /usr/bin/python3 tests/pipeline/make_audio_fixtures.py
"""
import os
import struct

import numpy as np

RATE, FRAME, STEP, FFT, MELS, MFCCS = 16000, 480, 320, 512, 40, 10


def hertz_to_mel(f):
    return 1127.0 * np.log(1.0 + f / 700.0)


def mel_matrix():
    bins = FFT // 2 + 1
    freqs = np.linspace(0.0, RATE / 2.0, bins)[1:]
    spec_mel = hertz_to_mel(freqs)[:, None]
    edges = np.linspace(hertz_to_mel(20.0), hertz_to_mel(4000.0), MELS + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    lower_slopes = (spec_mel - lower) / (center - lower)
    upper_slopes = (upper - spec_mel) / (upper - center)
    w = np.maximum(0.0, np.minimum(lower_slopes, upper_slopes))
    return np.vstack([np.zeros((1, MELS)), w])  # the DC bin gets no weight


def features(x):
    frames = 1 + (len(x) - FRAME) // STEP
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / FRAME)  # periodic Hann
    spec = np.stack([np.abs(np.fft.rfft(x[i * STEP:i * STEP + FRAME] * window, FFT))
                     for i in range(frames)])
    log_mel = np.log(spec @ mel_matrix() + 1e-6)
    n = np.arange(MELS)
    dct = np.stack([2 * np.cos(np.pi * k * (2 * n + 1) / (2 * MELS)) for k in range(MFCCS)])
    mfcc = log_mel @ dct.T / np.sqrt(2.0 * MELS)
    return log_mel, mfcc


def main():
    rng = np.random.default_rng(7)
    t = np.arange(RATE) / RATE
    # A tone, a chirp sweeping the mel range, a burst and some noise: every filter gets energy.
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * (100 + 1800 * t) * t)
         + 0.2 * np.sin(2 * np.pi * 2500 * t) * (t > 0.5) + 0.02 * rng.standard_normal(RATE))
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype('<i2')
    log_mel, mfcc = features(pcm.astype(np.float64) / 32768.0)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'kws_features_fixture.bin')
    with open(out, 'wb') as f:
        f.write(struct.pack('<ii', len(pcm), log_mel.shape[0]))
        f.write(pcm.tobytes())
        f.write(log_mel.astype('<f4').tobytes())
        f.write(mfcc.astype('<f4').tobytes())
    print(out, os.path.getsize(out), 'bytes,', log_mel.shape[0], 'frames')


if __name__ == '__main__':
    main()
