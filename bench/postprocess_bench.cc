// Post-processing cost per frame: NMS on n candidate boxes, and the YOLO/SSD decoders plus NMS
// on full-size heads. Inputs are seeded random data shaped like a busy camera frame: boxes in
// clusters (so NMS has work), scores uniform.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "pipeline/postprocess/detection_stage.h"
#include "pipeline/postprocess/nms.h"

namespace outpost::pipeline {
namespace {

// Times the whole detection stage on fixed head outputs; reports how many boxes it kept.
template <size_t kOutputs>
void RunStage(benchmark::State& state, DetectionStage& stage,
              const std::span<const float> (&outs)[kOutputs], const FrameTransform& frame) {
  size_t found = 0;
  for (auto _ : state) {
    auto d = stage.Run(outs, frame);
    found = d->size();
    benchmark::DoNotOptimize(d->data());
  }
  state.counters["detections"] = static_cast<double>(found);
}


std::vector<Candidate> RandomCandidates(int n, int classes) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> pos(0, 640), size(8, 120), jitter(-6, 6), score(0, 1);
  std::vector<Candidate> c(static_cast<size_t>(n));
  std::vector<Box> centres(static_cast<size_t>(n / 10 + 1));
  for (Box& b : centres) {
    const float x = pos(rng), y = pos(rng), w = size(rng), h = size(rng);
    b = {x, y, x + w, y + h};
  }
  for (int i = 0; i < n; ++i) {
    const Box& b = centres[static_cast<size_t>(i) % centres.size()];
    c[i] = {{b.x1 + jitter(rng), b.y1 + jitter(rng), b.x2 + jitter(rng), b.y2 + jitter(rng)},
            score(rng), static_cast<int>(rng() % static_cast<unsigned>(classes))};
  }
  return c;
}

// args: candidates, max_detections (0: no limit)
void BM_Nms(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::vector<Candidate> c = RandomCandidates(n, 80);
  Nms nms;
  nms.Reserve(n, 80);
  NmsOptions o{0.45, static_cast<int>(state.range(1)), 0, false};
  size_t kept = 0;
  for (auto _ : state) {
    Expected<std::span<const int>> k = nms.Run(c, o);
    kept = k->size();
    benchmark::DoNotOptimize(k->data());
  }
  state.counters["kept"] = static_cast<double>(kept);
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Nms)->Args({1000, 0})->Args({10000, 0})->Args({1000, 100})->Args({10000, 100})
    ->Unit(benchmark::kMicrosecond);

// YOLOv8-style flat head at 640x640: [84, 8400] logits-free probabilities, 80 classes.
void BM_YoloFlat8400(benchmark::State& state) {
  const int n = 8400, classes = 80;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> pos(0, 640), size(8, 200);
  // Most class scores are low, as on a real frame; about 1 box in 40 passes 0.25.
  std::exponential_distribution<float> low(40.0f);
  std::vector<float> t(static_cast<size_t>(4 + classes) * n);
  for (int i = 0; i < n; ++i) {
    t[0 * n + i] = pos(rng);
    t[1 * n + i] = pos(rng);
    t[2 * n + i] = size(rng);
    t[3 * n + i] = size(rng);
    for (int k = 0; k < classes; ++k) t[static_cast<size_t>(4 + k) * n + i] = std::min(1.0f, low(rng));
  }
  DetectionOptions o;
  o.format = DetectionFormat::kYoloFlat;
  o.yolo_flat = {n, classes, false, true, ScoreActivation::kNone, false};
  auto stage = DetectionStage::Create(o, 640, 640, {});
  const std::span<const float> outs[1] = {t};
  const FrameTransform frame = FrameTransform::Letterbox(1280, 720, 640, 640);
  RunStage(state, **stage, outs, frame);
}
BENCHMARK(BM_YoloFlat8400)->Unit(benchmark::kMicrosecond);

// SSD at 300x300: 1917 priors, 91 classes (COCO with background), softmax over logits.
void BM_Ssd1917(benchmark::State& state) {
  const int n = 1917, classes = 91;
  std::mt19937 rng(9);
  std::normal_distribution<float> logit(0, 1), delta(0, 0.5f);
  std::uniform_real_distribution<float> pos(0, 300), size(10, 150);
  DetectionOptions o;
  o.format = DetectionFormat::kSsd;
  o.ssd.num_classes = classes;
  o.ssd.activation = ScoreActivation::kSoftmax;
  for (int i = 0; i < n; ++i) o.ssd.priors.push_back({pos(rng), pos(rng), size(rng), size(rng)});
  o.score_threshold = 0.3f;
  std::vector<float> deltas(static_cast<size_t>(n) * 4), scores(static_cast<size_t>(n) * classes);
  for (float& d : deltas) d = delta(rng);
  for (float& s : scores) s = logit(rng);
  // A few confident priors so NMS has candidates.
  for (int i = 0; i < n; i += 20) scores[static_cast<size_t>(i) * classes + 1 + i % 90] = 8.0f;
  auto stage = DetectionStage::Create(o, 300, 300, {});
  const std::span<const float> outs[2] = {deltas, scores};
  const FrameTransform frame = FrameTransform::Resize(640, 480, 300, 300);
  RunStage(state, **stage, outs, frame);
}
BENCHMARK(BM_Ssd1917)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace outpost::pipeline

BENCHMARK_MAIN();
