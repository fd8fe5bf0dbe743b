// libFuzzer target: arbitrary bytes through the WAV parser, then the resampler on what it
// returns. Any crash, sanitizer report or hang is a bug.
#include "pipeline/sources/wav_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto wav = outpost::pipeline::ParseWav({data, size}, "fuzz.wav");
  if (!wav || wav->samples.size() > 4096) return 0;
  // A short clip through a fixed rate change keeps each run fast.
  outpost::pipeline::Resample(wav->samples, wav->sample_rate, 16000);
  return 0;
}
