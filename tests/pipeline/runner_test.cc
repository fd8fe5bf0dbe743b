// The runner end to end on the committed Fashion-MNIST CNN (compiled once for the suite), fed by
// test sources: every frame accounted for, drops under a live source faster than inference,
// rejections, motion skips, deadlines, source and action errors, stopping.
#include "pipeline/runner/runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "compiler/compile.h"
#include "pipeline/actions/jsonl_action.h"

namespace outpost::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// 28 x 28 gray frames made by `fill`; `fps` > 0 makes it a live source (frames as fast as
// asked for, no pacing: always faster than inference). `error_every` > 0 fails every n-th call.
class TestSource : public Source {
 public:
  TestSource(int frames, double fps, std::function<void(int, Frame&)> fill, int error_every = 0)
      : frames_(frames), fps_(fps), fill_(std::move(fill)), error_every_(error_every) {}

  Expected<bool> Next(Frame& frame) override {
    ++calls_;
    if (error_every_ > 0 && calls_ % error_every_ == 0)
      return Error("test source: unreadable item");
    if (frames_ >= 0 && produced_ >= frames_) return false;
    frame = Frame();
    frame.width = frame.height = 28;
    frame.format = io::PixelFormat::kGray;
    frame.pixels.assign(28 * 28, 0);
    fill_(produced_, frame);
    frame.sequence = static_cast<uint64_t>(produced_++);
    frame.capture_ns = NowNs();
    frame.origin = "test";
    return true;
  }
  std::string Describe() const override { return "test source"; }
  double fps() const override { return fps_; }

 private:
  int frames_;  // -1: endless
  double fps_;
  std::function<void(int, Frame&)> fill_;
  int error_every_;
  int calls_ = 0;
  int produced_ = 0;
};

// A different textured picture per frame (passes validation, moves for the motion gate).
void Textured(int i, Frame& f) {
  for (size_t p = 0; p < f.pixels.size(); ++p)
    f.pixels[p] = static_cast<uint8_t>((p * 7 + static_cast<size_t>(i) * 31) % 256);
}

void ExpectAllAccountedFor(const RunReport& r) {
  const RunCounters& c = r.counters;
  EXPECT_EQ(c.captured, c.processed + c.dropped + c.stale + c.rejected + c.skipped +
                            c.inference_errors + c.postprocess_errors)
      << ToJson(r).dump(1);
}

class RunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("outpost_runner_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
    model_ = dir_ + "/fashion_cnn.opm";
    Expected<std::vector<uint8_t>> bytes = compiler::CompileOnnxToOpm(
        std::string(OUTPOST_SOURCE_DIR) + "/models/zoo/fashion_cnn/model.onnx", {});
    if (!bytes) {
      compile_error_ = bytes.message();
      return;
    }
    std::ofstream(model_, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes->data()),
               static_cast<std::streamsize>(bytes->size()));
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override { ASSERT_TRUE(compile_error_.empty()) << compile_error_; }

  static PipelineConfig Config() {
    PipelineConfig c;
    c.model = model_;
    c.postprocess = {{"type", "classification"}, {"top_k", 3}};
    return c;
  }
  static RunReport Run(const PipelineConfig& c, std::unique_ptr<Source> source,
                       std::vector<std::unique_ptr<Action>> actions = {},
                       const RunOptions& options = {}) {
    Expected<std::unique_ptr<Runner>> r =
        Runner::Create(c, std::move(source), std::move(actions));
    EXPECT_TRUE(r.ok()) << r.message();
    if (!r) return {};
    return (*r)->Run(options);
  }

  static std::string dir_, model_, compile_error_;
};
std::string RunnerTest::dir_, RunnerTest::model_, RunnerTest::compile_error_;

TEST_F(RunnerTest, EveryFrameOfAFileSourceGetsAResult) {
  const std::string out = dir_ + "/every.jsonl";
  std::vector<std::unique_ptr<Action>> actions;
  actions.push_back(std::move(JsonlAction::OpenFile(out).value()));
  const RunReport r = Run(Config(), std::make_unique<TestSource>(20, 0, Textured),
                          std::move(actions));
  const RunCounters& c = r.counters;
  EXPECT_EQ(c.captured, 20u);
  EXPECT_EQ(c.processed, 20u);
  EXPECT_EQ(c.dropped, 0u);
  EXPECT_EQ(c.events_sent, 20u);
  EXPECT_EQ(c.bytes_captured, 20u * 28 * 28);
  EXPECT_EQ(c.bytes_sent, fs::file_size(out));
  EXPECT_EQ(r.stop_reason, "end of source");
  EXPECT_EQ(r.queues[0].policy, "block");
  EXPECT_EQ(r.end_to_end.count, 20u);
  for (const LatencySummary& s : r.stages)
    if (s.name == "infer") {
      EXPECT_EQ(s.count, 20u);
      EXPECT_GT(s.p50_ms, 0.0);
      EXPECT_LE(s.p50_ms, s.p99_ms);
    }
  EXPECT_FALSE(r.top_ops.empty());
  EXPECT_LE(r.top_ops.size(), 10u);
  EXPECT_FALSE(r.bottleneck.empty());
  ExpectAllAccountedFor(r);

  std::ifstream in(out);
  std::string line;
  uint64_t expected_frame = 0;
  while (std::getline(in, line)) {
    const json e = json::parse(line);
    EXPECT_EQ(e["frame"], expected_frame++);
    EXPECT_GE(e["latency_ms"].get<double>(), 0.0);
    EXPECT_GT(e["time_ms"].get<int64_t>(), 1'600'000'000'000);
    EXPECT_EQ(e["result"]["type"], "classification");
    ASSERT_EQ(e["result"]["classes"].size(), 3u);
    EXPECT_TRUE(e["result"]["classes"][0].contains("label"));  // the zoo model has labels
  }
  EXPECT_EQ(expected_frame, 20u);
}

TEST_F(RunnerTest, ALiveSourceFasterThanInferenceDropsFrames) {
  PipelineConfig c = Config();
  c.realtime.queue = 1;
  const RunReport r = Run(c, std::make_unique<TestSource>(400, 1000, Textured));
  const RunCounters& counters = r.counters;
  EXPECT_EQ(counters.captured, 400u);
  EXPECT_GT(counters.dropped, 0u) << ToJson(r).dump(1);
  EXPECT_LT(counters.processed, 400u);
  EXPECT_GT(counters.processed, 0u);
  EXPECT_EQ(r.queues[0].policy, "drop_oldest");
  EXPECT_EQ(counters.dropped, r.queues[0].dropped + r.queues[1].dropped);
  ExpectAllAccountedFor(r);
  const json j = ToJson(r);
  EXPECT_EQ(j["counters"]["dropped"], counters.dropped);
}

TEST_F(RunnerTest, RejectionsAndMotionSkipsAreCounted) {
  PipelineConfig c = Config();
  c.duty_cycle.motion_gate.enabled = true;
  // Frames 0-1 black, 2 constant gray, 3-5 one still picture (runs once), 6-9 moving.
  auto fill = [](int i, Frame& f) {
    if (i < 2) return;
    if (i == 2) {
      std::fill(f.pixels.begin(), f.pixels.end(), 128);
      return;
    }
    Textured(i < 6 ? 3 : i * 5, f);
  };
  const RunReport r = Run(c, std::make_unique<TestSource>(10, 0, fill));
  const RunCounters& counters = r.counters;
  EXPECT_EQ(counters.captured, 10u);
  EXPECT_EQ(counters.rejected, 3u);
  EXPECT_EQ(counters.rejected_by_reason.at("black"), 2u);
  EXPECT_EQ(counters.rejected_by_reason.at("constant"), 1u);
  EXPECT_EQ(counters.skipped, 2u);
  EXPECT_EQ(counters.processed, 5u);
  ExpectAllAccountedFor(r);
}

TEST_F(RunnerTest, SamplesFramesOfTheInputsSizeRunOthersAreRejected) {
  auto samples = [](int i, Frame& f) {
    f.kind = Frame::Kind::kSamples;
    f.rows = i % 2 == 0 ? 28 : 2;
    f.channels = 28;
    f.samples.assign(static_cast<size_t>(f.rows) * 28, 0.25f);
  };
  RunOptions options;
  uint64_t ran = 0, not_taken = 0;
  options.on_inference = [&](const InferenceObservation& seen) {
    if (seen.ran) {
      ++ran;
    } else {
      // A frame the model cannot take reaches the hook as a failure without a run.
      ++not_taken;
      EXPECT_FALSE(seen.ok);
      EXPECT_TRUE(seen.outputs.empty());
    }
  };
  const RunReport r = Run(Config(), std::make_unique<TestSource>(6, 0, samples), {}, options);
  EXPECT_EQ(r.counters.processed, 3u);
  EXPECT_EQ(r.counters.rejected_by_reason.at("wrong_size"), 3u);
  EXPECT_EQ(ran, 3u);
  EXPECT_EQ(not_taken, 3u);
  ExpectAllAccountedFor(r);
}

TEST_F(RunnerTest, DeadlinesMakeFramesStaleAndCountMisses) {
  PipelineConfig c = Config();
  c.realtime.deadline_ms = 1e-6;  // no frame can make it
  const RunReport r = Run(c, std::make_unique<TestSource>(5, 0, Textured));
  EXPECT_EQ(r.counters.stale, 5u);
  EXPECT_EQ(r.counters.processed, 0u);
  ExpectAllAccountedFor(r);

  c.realtime.deadline_ms = 1e4;  // every frame makes it
  const RunReport ok = Run(c, std::make_unique<TestSource>(5, 0, Textured));
  EXPECT_EQ(ok.counters.stale, 0u);
  EXPECT_EQ(ok.counters.missed_deadlines, 0u);
  EXPECT_EQ(ok.counters.processed, 5u);
}

TEST_F(RunnerTest, SourceErrorsAreCountedAndTheRunGoesOn) {
  const RunReport r = Run(Config(), std::make_unique<TestSource>(6, 0, Textured, 3));
  EXPECT_EQ(r.counters.processed, 6u);
  EXPECT_EQ(r.counters.source_errors, 3u);  // calls 3, 6 and 9 of 9
  EXPECT_EQ(r.counters.source_error_messages.at("test source: unreadable item"), 3u);
  EXPECT_TRUE(r.error.empty());
}

TEST_F(RunnerTest, AHundredSourceErrorsInARowEndTheRun) {
  const RunReport r = Run(Config(), std::make_unique<TestSource>(-1, 0, Textured, 1));
  EXPECT_EQ(r.counters.source_errors, 100u);
  EXPECT_EQ(r.stop_reason, "source errors");
  EXPECT_NE(r.error.find("100 errors in a row"), std::string::npos) << r.error;
}

TEST_F(RunnerTest, ActionErrorsAreCountedNeverFatal) {
  std::vector<std::unique_ptr<Action>> actions;
  actions.push_back(std::move(JsonlAction::OpenFile("/dev/full").value()));
  const RunReport r =
      Run(Config(), std::make_unique<TestSource>(4, 0, Textured), std::move(actions));
  EXPECT_EQ(r.counters.processed, 4u);
  EXPECT_EQ(r.counters.action_errors, 4u);
  EXPECT_EQ(r.counters.bytes_sent, 0u);
  ASSERT_EQ(r.counters.action_error_messages.size(), 1u);
  EXPECT_NE(r.counters.action_error_messages.begin()->first.find("No space left"),
            std::string::npos);
}

TEST_F(RunnerTest, UplinkOnChangeSendsOnlyChanges) {
  PipelineConfig c = Config();
  c.duty_cycle.uplink = UplinkMode::kOnChange;
  std::vector<std::unique_ptr<Action>> actions;
  actions.push_back(std::move(JsonlAction::OpenFile(dir_ + "/changes.jsonl").value()));
  // The same picture ten times: one class, one event.
  const RunReport r = Run(c, std::make_unique<TestSource>(10, 0, [](int, Frame& f) {
                            Textured(0, f);
                          }),
                          std::move(actions));
  EXPECT_EQ(r.counters.processed, 10u);
  EXPECT_EQ(r.counters.events_sent, 1u);
}

TEST_F(RunnerTest, StopFlagEndsAnEndlessLiveRunWithAReport) {
  std::atomic<bool> stop{false};
  RunOptions options;
  options.stop = &stop;
  options.status_period = std::chrono::milliseconds(20);
  int statuses = 0;
  options.on_status = [&](const LiveStatus& s) {
    ++statuses;
    EXPECT_GE(s.fps, 0.0);
  };
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    stop = true;
  });
  const RunReport r = Run(Config(), std::make_unique<TestSource>(-1, 500, Textured), {}, options);
  stopper.join();
  EXPECT_EQ(r.stop_reason, "stopped by signal");
  EXPECT_GT(r.counters.processed, 0u);
  EXPECT_GT(statuses, 0);
  ExpectAllAccountedFor(r);
}

TEST_F(RunnerTest, OnInferenceSeesEveryRunWithItsInputAndOutputs) {
  RunOptions options;
  uint64_t runs = 0, ok = 0;
  size_t input_values = 0, outputs = 0, output_values = 0;
  double min_latency = 1e9;
  bool input_varies = false;
  options.on_inference = [&](const InferenceObservation& seen) {
    ++runs;
    if (seen.ok) ++ok;
    min_latency = std::min(min_latency, seen.latency_ms);
    input_values = seen.input.size();
    for (float v : seen.input)
      if (v != seen.input.front()) input_varies = true;
    outputs = seen.outputs.size();
    output_values = seen.outputs.empty() ? 0 : seen.outputs.front().size();
    EXPECT_NE(seen.session, nullptr);
  };
  const RunReport r = Run(Config(), std::make_unique<TestSource>(12, 0, Textured), {}, options);
  EXPECT_EQ(r.counters.processed, 12u);
  EXPECT_EQ(runs, 12u);  // on the inference thread, once per Session::Run
  EXPECT_EQ(ok, 12u);
  EXPECT_GT(min_latency, 0.0);
  EXPECT_EQ(input_values, 28u * 28u);  // the float values the model was fed
  EXPECT_TRUE(input_varies);
  EXPECT_EQ(outputs, 1u);
  EXPECT_GT(output_values, 1u);
}

TEST_F(RunnerTest, MaxFrames) {
  RunOptions options;
  options.max_frames = 7;
  const RunReport r = Run(Config(), std::make_unique<TestSource>(-1, 0, Textured), {}, options);
  EXPECT_EQ(r.counters.captured, 7u);
  EXPECT_EQ(r.stop_reason, "max_frames");
}

TEST_F(RunnerTest, BuildErrors) {
  PipelineConfig c = Config();
  c.postprocess = {{"type", "classification"}, {"top_kk", 3}};
  EXPECT_FALSE(Runner::Create(c, std::make_unique<TestSource>(1, 0, Textured), {}).ok());
  c = Config();
  c.model = dir_ + "/missing.opm";
  EXPECT_FALSE(Runner::Create(c, std::make_unique<TestSource>(1, 0, Textured), {}).ok());
  c = Config();
  c.source = {{"type", "pigeon"}};
  Expected<std::unique_ptr<Runner>> unknown = Runner::FromConfig(c);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.message(), "unknown source type 'pigeon' (known: images, video, v4l2, sensor, audio, synthetic)");
}

}  // namespace
}  // namespace outpost::pipeline
