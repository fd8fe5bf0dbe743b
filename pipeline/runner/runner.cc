#include "pipeline/runner/runner.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "io/classification.h"
#include "pipeline/eval/detection_metrics.h"
#include "pipeline/runner/bounded_queue.h"
#include "pipeline/runner/frame_validator.h"
#include "pipeline/runner/motion_gate.h"
#include "pipeline/runner/postprocess_step.h"
#include "pipeline/runner/preprocess_step.h"
#include "pipeline/runner/spare_pool.h"
#include "pipeline/runner/stage_stats.h"
#include "pipeline/runner/uplink_policy.h"

namespace outpost::pipeline {
namespace {

constexpr int kMaxConsecutiveSourceErrors = 100;
// Error messages are counted by text; a source that puts a counter in every message must not
// grow the report without bound.
constexpr size_t kMaxDistinctMessages = 20;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Unix time in ms of a steady_clock instant in the recent past.
int64_t UnixMs(int64_t steady_ns) {
  const int64_t age_ns = NowNs() - steady_ns;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  return now_ms - age_ns / 1'000'000;
}

// An inferred frame on its way to the post thread.
struct Inferred {
  uint64_t sequence = 0;
  int64_t capture_ns = 0;
  std::string origin;
  InferredOutputs data;
  std::vector<TruthBox> truth;  // when the runner scores the detector
};

// Counts by message, folding messages past kMaxDistinctMessages into one entry.
class MessageCounts {
 public:
  void Add(const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (counts_.size() >= kMaxDistinctMessages && !counts_.count(message))
      ++counts_["(other messages)"];
    else
      ++counts_[message];
  }
  std::map<std::string, uint64_t> Get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return counts_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> counts_;
};

}  // namespace

struct Runner::Impl {
  PipelineConfig config;
  std::unique_ptr<Source> source;
  std::vector<std::unique_ptr<Action>> actions;
  std::unique_ptr<io::LoadedModel> model;
  std::unique_ptr<io::Session> session;
  std::unique_ptr<PreprocessStep> preprocess;
  std::unique_ptr<PostprocessStep> postprocess;
  std::unique_ptr<FrameValidator> validator;
  std::unique_ptr<MotionGate> motion;
  std::unique_ptr<UplinkPolicy> uplink;
  std::unique_ptr<DetectionMetrics> accuracy;  // detection on a source with truth

  StageStats stats;
  std::vector<int64_t> op_total_ns;
  uint64_t op_runs = 0;

  std::atomic<uint64_t> captured{0}, processed{0}, stale{0}, rejected{0}, skipped{0},
      missed{0}, source_errors{0}, inference_errors{0}, postprocess_errors{0}, action_errors{0},
      events_sent{0}, bytes_captured{0};
  std::array<std::atomic<uint64_t>, kRejectReasonCount> rejected_by{};
  MessageCounts source_messages, action_messages;
  std::string fatal_error;
  std::string stop_reason = "end of source";
  std::atomic<int64_t> first_capture_ns{-1};

  std::unique_ptr<BoundedQueue<Frame>> frames;
  std::unique_ptr<BoundedQueue<Inferred>> results;
  // Items the post thread is done with, handed back so that the infer thread reuses their
  // buffers instead of allocating outputs for every frame.
  SparePool<Inferred> spare_results;

  void Reject(RejectReason reason) {
    ++rejected;
    ++rejected_by[static_cast<size_t>(reason)];
  }
  void CaptureLoop(uint64_t max_frames, const std::atomic<bool>* stop);
  void InferLoop(const std::function<void(const InferenceObservation&)>& on_inference);
  // A frame the model cannot take, for the host's hook.
  void NotTaken(const std::function<void(const InferenceObservation&)>& on_inference) {
    if (!on_inference) return;
    InferenceObservation seen;
    seen.ran = false;
    seen.session = session.get();
    on_inference(seen);
  }
  void PostLoop();
  void PostOne(const Inferred& item);
  void Deliver(const Inferred& item, const PostprocessResult& result);
  LiveStatus Status(double wall_s) const;
  RunReport Report(double wall_s);
};

void Runner::Impl::CaptureLoop(uint64_t max_frames, const std::atomic<bool>* stop) {
  int errors_in_a_row = 0;
  while (true) {
    if (stop && stop->load()) {
      stop_reason = "stopped by signal";
      break;
    }
    if (max_frames > 0 && captured.load() >= max_frames) {
      stop_reason = "max_frames";
      break;
    }
    Frame frame;
    const int64_t t0 = NowNs();
    Expected<bool> got = source->Next(frame);
    stats[Stage::kCapture].Record(NowNs() - t0);
    if (!got) {
      ++source_errors;
      source_messages.Add(got.message());
      if (++errors_in_a_row >= kMaxConsecutiveSourceErrors) {
        fatal_error = "source: " + std::to_string(kMaxConsecutiveSourceErrors) +
                      " errors in a row, the last: " + got.message();
        stop_reason = "source errors";
        break;
      }
      continue;
    }
    if (!*got) break;
    errors_in_a_row = 0;
    if (frame.capture_ns == 0) frame.capture_ns = NowNs();
    if (first_capture_ns.load() < 0) first_capture_ns = frame.capture_ns;
    ++captured;
    bytes_captured += frame.bytes();
    if (!frames->Push(std::move(frame))) break;
  }
  frames->Close();
}

void Runner::Impl::InferLoop(const std::function<void(const InferenceObservation&)>& on_inference) {
  const int64_t deadline_ns = static_cast<int64_t>(config.realtime.deadline_ms * 1e6);
  const bool profile = !op_total_ns.empty();
  Frame frame;
  while (frames->Pop(frame)) {
    int64_t t = NowNs();
    if (deadline_ns > 0 && t - frame.capture_ns > deadline_ns) {
      ++stale;
      continue;
    }
    const RejectReason reason = validator->Check(frame);
    int64_t t1 = NowNs();
    stats[Stage::kValidate].Record(t1 - t);
    if (reason != RejectReason::kNone) {
      Reject(reason);
      if (reason == RejectReason::kWrongSize) NotTaken(on_inference);
      continue;
    }
    if (motion) {
      const bool run = motion->ShouldRun(frame);
      t = NowNs();
      stats[Stage::kMotion].Record(t - t1);
      t1 = t;
      if (!run) {
        ++skipped;
        continue;
      }
    }
    Expected<FrameTransform> transform = preprocess->Apply(frame);
    t = NowNs();
    stats[Stage::kPreprocess].Record(t - t1);
    if (!transform) {
      // The validator checks sizes against the model already; what is left is a frame the
      // model cannot take at all (an image for a feature-vector input).
      Reject(RejectReason::kWrongSize);
      NotTaken(on_inference);
      continue;
    }
    Expected<Unit> ran = session->Run();
    t1 = NowNs();
    stats[Stage::kInfer].Record(t1 - t);
    if (!ran) {
      ++inference_errors;
      if (on_inference) {
        InferenceObservation seen;
        seen.latency_ms = static_cast<double>(t1 - t) / 1e6;
        seen.input = preprocess->input();
        seen.session = session.get();
        on_inference(seen);
      }
      continue;
    }
    if (profile) {
      const std::vector<io::OpProfile>& ops = session->op_profiles();
      for (size_t i = 0; i < ops.size() && i < op_total_ns.size(); ++i)
        op_total_ns[i] += ops[i].nanos;
      ++op_runs;
    }
    Inferred item = spare_results.Take();
    item.sequence = frame.sequence;
    item.capture_ns = frame.capture_ns;
    item.origin = frame.origin;
    item.data.transform = *transform;
    item.data.time_ms = (frame.capture_ns - first_capture_ns) / 1'000'000;
    item.data.outputs.resize(static_cast<size_t>(session->num_outputs()));
    for (int i = 0; i < session->num_outputs(); ++i)
      session->OutputAsFloat(i, item.data.outputs[static_cast<size_t>(i)]);
    if (postprocess->needs_input()) {
      const std::span<const float> in = preprocess->input();
      item.data.input.assign(in.begin(), in.end());
    }
    if (on_inference) {
      InferenceObservation seen;
      seen.ok = true;
      seen.latency_ms = static_cast<double>(t1 - t) / 1e6;
      seen.input = preprocess->input();
      seen.outputs = item.data.outputs;
      seen.session = session.get();
      on_inference(seen);
    }
    item.truth.clear();
    if (accuracy) item.truth = std::move(frame.truth);
    if (!results->Push(std::move(item))) break;
  }
  results->Close();
}

void Runner::Impl::PostLoop() {
  Inferred item;
  while (results->Pop(item)) {
    PostOne(item);
    spare_results.Give(std::move(item));
  }
}

void Runner::Impl::PostOne(const Inferred& item) {
  const int64_t deadline_ns = static_cast<int64_t>(config.realtime.deadline_ms * 1e6);
  const int64_t t0 = NowNs();
  Expected<PostprocessResult> result = postprocess->Run(item.data);
  const int64_t t1 = NowNs();
  stats[Stage::kPostprocess].Record(t1 - t0);
  if (!result) {
    ++postprocess_errors;
    return;
  }
  if (accuracy)
    if (const auto* d = std::get_if<DetectionResult>(&*result))
      accuracy->AddFrame(d->detections, item.truth);
  if (uplink->ShouldSend(*result)) {
    Deliver(item, *result);
    stats[Stage::kAction].Record(NowNs() - t1);
  }
  ++processed;
  const int64_t e2e = NowNs() - item.capture_ns;
  stats.end_to_end.Record(e2e);
  if (deadline_ns > 0 && e2e > deadline_ns) ++missed;
}

void Runner::Impl::Deliver(const Inferred& item, const PostprocessResult& result) {
  const nlohmann::json event = {
      {"frame", item.sequence},
      {"time_ms", UnixMs(item.capture_ns)},
      {"latency_ms", static_cast<double>(NowNs() - item.capture_ns) / 1e6},
      {"origin", item.origin},
      {"result", ToJson(result)}};
  const std::string text = event.dump();
  ++events_sent;
  for (const std::unique_ptr<Action>& action : actions) {
    Expected<Unit> sent = action->Emit(text);
    if (!sent) {
      ++action_errors;
      action_messages.Add(action->Describe() + ": " + sent.message());
    }
  }
}

LiveStatus Runner::Impl::Status(double wall_s) const {
  LiveStatus s;
  const uint64_t done = processed.load();
  s.fps = wall_s > 0 ? static_cast<double>(done) / wall_s : 0;
  s.e2e_p50_ms = stats.end_to_end.PercentileMs(50);
  s.e2e_p99_ms = stats.end_to_end.PercentileMs(99);
  s.infer_ms = stats[Stage::kInfer].mean_ms();
  s.dropped = frames->stats().dropped + results->stats().dropped;
  s.rejected = rejected.load();
  const uint64_t gated = done + skipped.load();
  s.skipped_fraction = gated ? static_cast<double>(skipped.load()) / static_cast<double>(gated) : 0;
  return s;
}

RunReport Runner::Impl::Report(double wall_s) {
  RunReport r;
  r.source = source->Describe();
  r.model = config.model;
  for (const auto& a : actions) r.actions.push_back(a->Describe());
  r.stop_reason = stop_reason;
  r.error = fatal_error;
  r.deadline_ms = config.realtime.deadline_ms;
  r.wall_s = wall_s;
  RunCounters& c = r.counters;
  c.captured = captured;
  c.processed = processed;
  c.stale = stale;
  c.rejected = rejected;
  for (int i = 1; i < kRejectReasonCount; ++i)
    if (rejected_by[static_cast<size_t>(i)])
      c.rejected_by_reason[std::string(RejectReasonName(static_cast<RejectReason>(i)))] =
          rejected_by[static_cast<size_t>(i)];
  c.skipped = skipped;
  c.missed_deadlines = missed;
  c.source_errors = source_errors;
  c.source_error_messages = source_messages.Get();
  c.inference_errors = inference_errors;
  c.postprocess_errors = postprocess_errors;
  c.action_errors = action_errors;
  c.action_error_messages = action_messages.Get();
  c.events_sent = events_sent;
  c.bytes_captured = bytes_captured;
  for (const auto& a : actions) c.bytes_sent += a->bytes_sent();
  r.fps = wall_s > 0 ? static_cast<double>(c.processed) / wall_s : 0;

  auto summarize = [&](const std::string& name, const LatencyRecorder& rec) {
    LatencySummary s;
    s.name = name;
    s.count = rec.count();
    s.mean_ms = rec.mean_ms();
    s.p50_ms = rec.PercentileMs(50);
    s.p95_ms = rec.PercentileMs(95);
    s.p99_ms = rec.PercentileMs(99);
    s.per_second = wall_s > 0 ? static_cast<double>(s.count) / wall_s : 0;
    return s;
  };
  for (int i = 0; i < kStageCount; ++i) {
    const Stage stage = static_cast<Stage>(i);
    r.stages.push_back(summarize(std::string(StageName(stage)), stats[stage]));
  }
  r.end_to_end = summarize("end_to_end", stats.end_to_end);

  auto queue = [](const std::string& name, const QueueStats& s, size_t capacity,
                  QueueFullPolicy policy) {
    QueueSummary q;
    q.name = name;
    q.capacity = capacity;
    q.policy = policy == QueueFullPolicy::kBlock ? "block" : "drop_oldest";
    q.dropped = s.dropped;
    q.max_depth = s.max_depth;
    q.mean_depth = s.mean_depth;
    return q;
  };
  r.queues.push_back(
      queue("capture->infer", frames->stats(), frames->capacity(), frames->policy()));
  r.queues.push_back(queue("infer->post", results->stats(), results->capacity(), results->policy()));
  c.dropped = r.queues[0].dropped + r.queues[1].dropped;

  // The bottleneck: the stage thread with the most busy time per frame it handled.
  auto busy_ms = [&](std::initializer_list<Stage> stages, uint64_t frames_handled) {
    int64_t total = 0;
    for (Stage s : stages) total += stats[s].total_ns();
    return frames_handled ? static_cast<double>(total) / 1e6 / static_cast<double>(frames_handled)
                          : 0.0;
  };
  const double capture_ms = busy_ms({Stage::kCapture}, stats[Stage::kCapture].count());
  const double infer_ms =
      busy_ms({Stage::kValidate, Stage::kMotion, Stage::kPreprocess, Stage::kInfer},
              stats[Stage::kValidate].count() + c.stale);
  const double post_ms =
      busy_ms({Stage::kPostprocess, Stage::kAction}, stats[Stage::kPostprocess].count());
  const std::string figures = "capture " + Fixed(capture_ms, 3) + " ms, infer " +
                              Fixed(infer_ms, 3) + " ms, post " + Fixed(post_ms, 3) +
                              " ms per frame";
  if (capture_ms >= infer_ms && capture_ms >= post_ms) {
    r.bottleneck = "capture";
    r.bottleneck_reason =
        source->live() ? "the pipeline keeps up with the source's " +
                             Fixed(source->fps(), 1) + " fps (" + figures + ")"
                       : "reading frames takes longest (" + figures + ")";
  } else if (infer_ms >= post_ms) {
    r.bottleneck = "infer";
    r.bottleneck_reason = "validate + motion + preprocess + inference take longest (" + figures +
                          "): at most " + Fixed(1000.0 / infer_ms, 1) + " fps";
  } else {
    r.bottleneck = "post";
    r.bottleneck_reason = "post-processing + actions take longest (" + figures + ")";
  }

  if (op_runs > 0) {
    const std::vector<io::OpProfile>& ops = session->op_profiles();
    int64_t all = 0;
    for (int64_t ns : op_total_ns) all += ns;
    std::vector<size_t> order(op_total_ns.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return op_total_ns[a] > op_total_ns[b]; });
    for (size_t k = 0; k < order.size() && k < 10; ++k) {
      const size_t i = order[k];
      OpTime o;
      o.op = ops[i].op;
      o.name = ops[i].name;
      o.total_ms = static_cast<double>(op_total_ns[i]) / 1e6;
      o.mean_us = static_cast<double>(op_total_ns[i]) / 1e3 / static_cast<double>(op_runs);
      o.share = all > 0 ? static_cast<double>(op_total_ns[i]) / static_cast<double>(all) : 0;
      r.top_ops.push_back(std::move(o));
    }
  }
  if (accuracy && accuracy->frames() > 0) {
    DetectionAccuracy a;
    a.frames = accuracy->frames();
    a.map50 = accuracy->MeanAp(0);
    a.map50_95 = accuracy->MeanApCoco();
    const std::vector<std::string> labels = io::ModelLabels(model->fb());
    for (int c = 0; c < accuracy->num_classes(); ++c)
      if (accuracy->has_ap(c))
        a.class_ap50.emplace_back(
            c < static_cast<int>(labels.size()) ? labels[c] : "class " + std::to_string(c),
            accuracy->ClassAp(c, 0));
    r.accuracy = std::move(a);
  }
  return r;
}

Runner::Runner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runner::~Runner() = default;

Expected<std::unique_ptr<Runner>> Runner::Create(const PipelineConfig& config,
                                                 std::unique_ptr<Source> source,
                                                 std::vector<std::unique_ptr<Action>> actions) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->source = std::move(source);
  impl->actions = std::move(actions);
  Expected<io::LoadedModel> model = io::LoadedModel::Open(config.model);
  if (!model) return model.error();
  impl->model = std::make_unique<io::LoadedModel>(std::move(model).value());
  io::SessionOptions session_options;
  session_options.threads = config.threads;
  Expected<std::unique_ptr<io::Session>> session =
      io::Session::Create(*impl->model, session_options);
  if (!session) return session.error();
  impl->session = std::move(session).value();
  impl->session->set_profiling(true);
  impl->op_total_ns.assign(impl->session->op_profiles().size(), 0);

  Expected<PreprocessOptions> pre_options = ParsePreprocessOptions(config.preprocess);
  if (!pre_options) return pre_options.error();
  Expected<std::unique_ptr<PreprocessStep>> pre =
      PreprocessStep::Create(*pre_options, *impl->session);
  if (!pre) return pre.error();
  impl->preprocess = std::move(pre).value();
  const auto& plan = impl->preprocess->plan();
  Expected<std::unique_ptr<PostprocessStep>> post = PostprocessStep::Create(
      config.postprocess, *impl->session, plan ? plan->width : 0, plan ? plan->height : 0);
  if (!post) return post.error();
  impl->postprocess = std::move(post).value();
  impl->preprocess->set_keep_float_input(impl->postprocess->needs_input());

  impl->validator =
      std::make_unique<FrameValidator>(config.validation, impl->preprocess->input_values());
  if (config.duty_cycle.motion_gate.enabled)
    impl->motion = std::make_unique<MotionGate>(config.duty_cycle.motion_gate);
  impl->uplink = std::make_unique<UplinkPolicy>(config.duty_cycle.uplink);
  if (impl->source->has_truth() && config.postprocess.value("type", "") == "detection")
    impl->accuracy = std::make_unique<DetectionMetrics>(config.postprocess.value("num_classes", 0));

  DropPolicy drop = config.realtime.drop;
  if (drop == DropPolicy::kAuto)
    drop = impl->source->live() ? DropPolicy::kOldest : DropPolicy::kBlock;
  const QueueFullPolicy policy =
      drop == DropPolicy::kOldest ? QueueFullPolicy::kDropOldest : QueueFullPolicy::kBlock;
  const size_t capacity = static_cast<size_t>(config.realtime.queue);
  impl->frames = std::make_unique<BoundedQueue<Frame>>(capacity, policy);
  impl->results = std::make_unique<BoundedQueue<Inferred>>(capacity, policy);
  return std::unique_ptr<Runner>(new Runner(std::move(impl)));
}

Expected<std::unique_ptr<Runner>> Runner::FromConfig(const PipelineConfig& config,
                                                     const ActionFactoryExtension* extension) {
  Expected<std::unique_ptr<Source>> source = MakeSource(config.source, config.base_dir);
  if (!source) return source.error();
  std::vector<std::unique_ptr<Action>> actions;
  for (const nlohmann::json& spec : config.actions) {
    Expected<std::unique_ptr<Action>> action = MakeAction(spec, config.base_dir, extension);
    if (!action) return action.error();
    actions.push_back(std::move(action).value());
  }
  return Create(config, std::move(source).value(), std::move(actions));
}

RunReport Runner::Run(const RunOptions& options) {
  Impl& m = *impl_;
  const uint64_t max_frames = options.max_frames > 0 ? options.max_frames : m.config.max_frames;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };

  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::thread capture([&] { m.CaptureLoop(max_frames, options.stop); });
  if (options.on_inference) m.preprocess->set_keep_float_input(true);
  std::thread infer([&] { m.InferLoop(options.on_inference); });
  std::thread post([&] {
    m.PostLoop();
    std::lock_guard<std::mutex> lock(done_mutex);
    done = true;
    done_cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(done_mutex);
    while (!done) {
      done_cv.wait_for(lock, options.status_period);
      if (!done && options.on_status) {
        lock.unlock();
        options.on_status(m.Status(elapsed()));
        lock.lock();
      }
    }
  }
  capture.join();
  infer.join();
  post.join();
  for (const auto& action : m.actions) {
    Expected<Unit> closed = action->Close();
    if (!closed) {
      ++m.action_errors;
      m.action_messages.Add(action->Describe() + ": " + closed.message());
    }
  }
  return m.Report(elapsed());
}

}  // namespace outpost::pipeline
