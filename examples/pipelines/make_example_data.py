"""Writes the inputs of the sensor and audio example pipelines next to this file.

    /usr/bin/python3 examples/pipelines/make_example_data.py

machine.csv: 400 rows x 128 columns of N(0, 1) readings (the shape of the anomaly model's
log-mel features) with a burst of +6 on rows 300-319, which the anomaly stage flags.
speech.wav: 3 s of a 440 Hz tone at 16 kHz, 16-bit mono (the keyword model has random
weights: the example shows the audio front end and posterior smoothing, not a real keyword).
"""
import os
import wave

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)
rows = rng.normal(0.0, 1.0, (400, 128))
rows[300:320] += 6.0
np.savetxt(os.path.join(here, "machine.csv"), rows, delimiter=",", fmt="%.4f")

t = np.arange(16000 * 3) / 16000.0
samples = (0.3 * np.sin(2 * np.pi * 440.0 * t) * 32767).astype("<i2")
with wave.open(os.path.join(here, "speech.wav"), "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(16000)
    w.writeframes(samples.tobytes())
print("wrote machine.csv and speech.wav in", here)
