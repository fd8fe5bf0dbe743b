#include "agent/daemon/agent_daemon.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "agent/client/fleet_client.h"
#include "agent/drift/drift_monitor.h"
#include "agent/shadow/shadow_comparator.h"
#include "agent/telemetry/device_metrics.h"
#include "agent/telemetry/telemetry_buffer.h"
#include "agent/telemetry/telemetry_uploader.h"
#include "agent/update/update_engine.h"
#include "common/json_nesting.h"
#include "io/mapped_file.h"
#include "io/model_file.h"
#include "package/codec.h"
#include "package/keys.h"
#include "pipeline/config/pipeline_config.h"
#include "pipeline/runner/runner.h"

namespace outpost::agent {
namespace {

// Events kept for the next telemetry record; older ones are only logged.
constexpr size_t kMaxEventsPerRecord = 16;
constexpr size_t kMaxEventBytes = 1000;
// Inference outcomes waiting for the engine's thread; beyond this between two ticks (a few ms
// apart) the rest count only in the telemetry metrics.
constexpr size_t kPendingOutcomes = 8192;
constexpr auto kTick = std::chrono::milliseconds(20);
constexpr int64_t kPipelineRetryMs = 2000;

int64_t DaemonWallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t DaemonSteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string DaemonHostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "device";
  return name;
}

// A secret text file created with mode 0600 in one step (never chmod-ed afterwards, as key
// files are written) and never over an existing file: temporary name, fsync, link.
Expected<Unit> WriteSecretFile(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error(path + ": cannot write: " + std::strerror(errno));
  size_t done = 0;
  bool ok = true;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int err = errno;
  if (::close(fd) != 0 || !ok) {
    ::unlink(temp.c_str());
    return Error(path + ": cannot write: " + std::strerror(ok ? errno : err));
  }
  if (::link(temp.c_str(), path.c_str()) != 0) {
    const int link_err = errno;
    ::unlink(temp.c_str());
    if (link_err == EEXIST) return Error(path + ": already exists (the device is enrolled)");
    return Error(path + ": cannot write: " + std::strerror(link_err));
  }
  ::unlink(temp.c_str());
  return Unit{};
}

// The credential, refused when the group or others may read it (as secret key files are).
Expected<std::string> ReadCredentialFile(const std::string& path) {
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) return Error(path + ": cannot read the credential: " + std::strerror(errno));
  if (st.st_mode & 077)
    return Error(path + ": the credential may be read by the group or others (mode " +
                 std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                 std::to_string(st.st_mode & 7) + "); it must be 0600");
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  if (!in && !in.eof()) return Error(path + ": cannot read the credential");
  if (text.empty()) return Error(path + ": the credential is empty");
  return text;
}

std::string EventLine(const UpdateEvent& e) {
  std::string line = e.kind + (e.version.empty() ? "" : " " + e.version);
  if (!e.reason.empty()) line += ": " + e.reason;
  if (line.size() > kMaxEventBytes) {
    size_t cut = kMaxEventBytes - 3;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    line = line.substr(0, cut) + "...";
  }
  // A reason may quote bytes that are not UTF-8 (a file name, a server's answer): replaced, so
  // that the record stays valid JSON.
  return nlohmann::json::parse(
             nlohmann::json(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
      .get<std::string>();
}

// The figures the inference thread observes and the main thread reads: the drift monitor of
// the active model, the shadow comparison during a health window, the outcomes for the engine.
class InferenceWatch {
 public:
  InferenceWatch(DeviceMetrics& metrics) : metrics_(metrics) {
    pending_.reserve(kPendingOutcomes);
    taken_.reserve(kPendingOutcomes);
  }

  // On the inference thread, once per model run.
  void Observe(const pipeline::InferenceObservation& seen) {
    metrics_.RecordInference(seen.latency_ms, seen.ok);
    if (seen.session) arena_bytes_.store(static_cast<int64_t>(seen.session->arena().total_bytes));
    {
      std::lock_guard<std::mutex> lock(outcomes_mutex_);
      if (pending_.size() < kPendingOutcomes) pending_.push_back({seen.ok, seen.latency_ms});
    }
    if (!seen.ok) return;
    std::lock_guard<std::mutex> lock(watch_mutex_);
    if (!drift_ && !shadow_) return;
    outputs_.resize(seen.outputs.size());
    for (size_t i = 0; i < seen.outputs.size(); ++i) outputs_[i] = seen.outputs[i];
    inputs_[0] = seen.input;
    if (drift_) (void)drift_->Observe(std::span<const std::span<const float>>(inputs_), outputs_);
    if (shadow_) shadow_->Observe(seen.input, outputs_);
  }

  // On the main thread: the outcomes since the last call.
  const std::vector<std::pair<bool, double>>& TakeOutcomes() {
    taken_.clear();
    std::lock_guard<std::mutex> lock(outcomes_mutex_);
    pending_.swap(taken_);
    return taken_;
  }

  void SetDrift(std::optional<DriftMonitor> drift) {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    drift_ = std::move(drift);
  }
  void SetShadow(std::unique_ptr<ShadowComparator> shadow) {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    shadow_ = std::move(shadow);
  }
  bool has_shadow() {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    return shadow_ != nullptr;
  }

  // Ends a reporting window: the drift and agreement figures of the window, then a new one.
  void EndWindow(PeriodContext& context) {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    if (drift_) {
      const DriftReport r = drift_->Report();
      context.drift_psi = r.output_psi;
      context.input_drift_psi = r.input_psi;
      drift_->StartWindow();
    }
    if (shadow_) {
      context.agreement = shadow_->stats().agreement();
      shadow_->StartWindow();
    }
  }
  // The shadow comparison's agreement so far (it is about to be dropped).
  std::optional<double> ShadowAgreement() {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    return shadow_ ? shadow_->stats().agreement() : std::nullopt;
  }

  std::optional<int64_t> arena_bytes() const {
    const int64_t a = arena_bytes_.load();
    return a > 0 ? std::optional<int64_t>(a) : std::nullopt;
  }

 private:
  DeviceMetrics& metrics_;
  std::mutex outcomes_mutex_;
  std::vector<std::pair<bool, double>> pending_, taken_;
  std::mutex watch_mutex_;
  std::optional<DriftMonitor> drift_;
  std::unique_ptr<ShadowComparator> shadow_;
  std::span<const float> inputs_[1];
  std::vector<std::span<const float>> outputs_;
  std::atomic<int64_t> arena_bytes_{0};
};

// The pipeline on its own thread, on one model.
struct RunningPipeline {
  std::string model_path;
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  pipeline::RunReport report;
  std::thread thread;

  ~RunningPipeline() { Stop(); }
  void Stop() {
    stop.store(true);
    if (thread.joinable()) thread.join();
  }
};

class AgentLoop {
 public:
  AgentLoop(const AgentConfig& config, const AgentRunOptions& options) : config_(config), options_(options) {}

  Expected<AgentRunSummary> Run();

 private:
  void Log(const std::string& line) {
    if (options_.log)
      options_.log(line);
    else
      std::cerr << "outpost agent: " << line << std::endl;
  }
  bool Stopping() const { return options_.stop && options_.stop->load(); }

  Expected<Unit> Open();
  void StartPipeline();
  void StopPipeline();
  void WatchModel(const std::string& path);
  void Poll();
  void UpdateShadow();
  void Report(int64_t now_ms);
  void Upload(bool force);
  void DrainOutcomes(bool discard);

  const AgentConfig& config_;
  const AgentRunOptions& options_;
  std::unique_ptr<FleetClient> client_;
  std::unique_ptr<UpdateEngine> engine_;
  std::unique_ptr<TelemetryBuffer> buffer_;
  std::unique_ptr<TelemetryUploader> uploader_;
  std::unique_ptr<DeviceMetrics> metrics_;
  std::unique_ptr<InferenceWatch> watch_;
  pipeline::PipelineConfig pipeline_;
  std::unique_ptr<RunningPipeline> running_;
  std::string shadow_for_;  // the candidate the shadow comparison runs ("" : none)
  std::optional<double> last_agreement_;
  std::vector<std::string> record_events_;
  std::string last_step_error_;       // the last step that could not run ("" after a good one)
  bool step_error_reported_ = false;  // one such event per report period
  int64_t next_pipeline_try_ms_ = 0;
  AgentRunSummary summary_;
};

Expected<Unit> AgentLoop::Open() {
  return Capture([&] {
    auto must = [](auto expected) {
      if (!expected) throw Error(expected.message());
      return std::move(expected).value();
    };
    const std::string credential = must(ReadCredentialFile(config_.credential_file));
    UpdateEngineOptions e;
    e.device_dir = config_.dir;
    e.device_id = config_.device_id;
    e.model = config_.model;
    e.tags = config_.tags;
    e.signing_public = must(package::ReadKeyFile(config_.signing_key, {package::KeyType::kSigningPublic}));
    if (!config_.rollback_key.empty())
      e.rollback_public = must(package::ReadKeyFile(config_.rollback_key, {package::KeyType::kSigningPublic}));
    e.device_secret = must(package::ReadKeyFile(config_.device_key, {package::KeyType::kDeviceSecret}));
    e.health_window_ms = config_.health.window_ms;
    e.health_min_inferences = static_cast<uint64_t>(config_.health.min_inferences);
    e.health_max_error_rate_increase = config_.health.max_error_rate_increase;
    e.health_max_error_rate = config_.health.max_error_rate;
    e.health_max_p99_ratio = config_.health.max_p99_ratio;
    pipeline_ = must(pipeline::LoadPipelineConfig(config_.pipeline));

    FleetClientOptions c;
    c.server_url = config_.server;
    c.ca_file = config_.ca_file;
    c.credential = credential;
    client_ = must(FleetClient::Create(c));
    engine_ = must(UpdateEngine::Open(e, client_.get()));

    TelemetryBufferOptions b;
    b.max_records = config_.buffer.max_records;
    b.max_bytes = config_.buffer.max_bytes;
    buffer_ = must(TelemetryBuffer::Open(config_.dir + "/telemetry.db", b));
    FleetClient* client = client_.get();
    TelemetrySender sender = [client](const std::string& body) -> Expected<TelemetryAck> {
      // The buffer's records are sent as stored; the client takes the array.
      nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
      if (!parsed.is_object() || !parsed.contains("records"))
        return Error("telemetry batch is not valid JSON", ErrorKind::kRefused);
      return client->PostTelemetry(parsed["records"]);
    };
    uploader_ = std::make_unique<TelemetryUploader>(*buffer_, sender, [] { return DaemonWallMs(); });
    metrics_ = std::make_unique<DeviceMetrics>(DaemonWallMs());
    watch_ = std::make_unique<InferenceWatch>(*metrics_);
    return Unit{};
  });
}

void AgentLoop::WatchModel(const std::string& path) {
  Expected<io::LoadedModel> model = io::LoadedModel::Open(path);
  if (!model) {
    watch_->SetDrift(std::nullopt);
    return;
  }
  Expected<DriftMonitor> drift = DriftMonitor::ForModel(*model);
  if (drift) {
    watch_->SetDrift(std::move(drift).value());
  } else {
    watch_->SetDrift(std::nullopt);
    Log("no drift figures for this model: " + drift.message());
  }
}

void AgentLoop::StartPipeline() {
  const std::string path = engine_->ActiveModelPath();
  if (path.empty()) return;
  pipeline::PipelineConfig config = pipeline_;
  config.model = path;
  Expected<std::unique_ptr<pipeline::Runner>> runner = pipeline::Runner::FromConfig(config, options_.actions);
  if (!runner) {
    Log("cannot start the pipeline on " + engine_->active_version() + ": " + runner.message());
    next_pipeline_try_ms_ = DaemonSteadyMs() + kPipelineRetryMs;
    // A new model in its health window that cannot run this device's pipeline at all: every
    // frame it should have answered is a failure, so the window fails and the engine rolls
    // back to the previous model (waiting for inferences that never come would keep it).
    if (engine_->state() == UpdateState::kHealth)
      for (int64_t i = 0; i < std::max<int64_t>(1, config_.health.min_inferences); ++i)
        engine_->RecordInference(false, 0);
    return;
  }
  WatchModel(path);
  metrics_->RestartBaseline(DaemonWallMs());
  DrainOutcomes(true);
  auto running = std::make_unique<RunningPipeline>();
  running->model_path = path;
  RunningPipeline* r = running.get();
  InferenceWatch* watch = watch_.get();
  running->thread = std::thread([r, watch, owned = std::move(runner).value()]() mutable {
    pipeline::RunOptions o;
    o.stop = &r->stop;
    o.on_inference = [watch](const pipeline::InferenceObservation& seen) { watch->Observe(seen); };
    r->report = owned->Run(o);
    owned.reset();
    r->done.store(true);
  });
  running_ = std::move(running);
  ++summary_.pipeline_starts;
  Log("running " + config_.model + " " + engine_->active_version() + " (" + path + ")");
}

void AgentLoop::StopPipeline() {
  if (!running_) return;
  running_->Stop();
  running_.reset();
}

void AgentLoop::DrainOutcomes(bool discard) {
  const std::vector<std::pair<bool, double>>& outcomes = watch_->TakeOutcomes();
  if (discard) return;
  for (const auto& [ok, latency] : outcomes) engine_->RecordInference(ok, latency);
}

void AgentLoop::Poll() {
  Expected<UpdateState> state = engine_->RunUntilSettled();
  std::vector<UpdateEvent> events = engine_->TakeEvents();
  if (!state) {
    Log("update check: " + state.message());
    // A step that could not run (a transfer cut short, the server unreachable, a download the
    // server cannot complete) is retried at the next poll; it is reported too, once per
    // report period and only when it says something new, so that an outage does not fill
    // every record.
    if (state.message() != last_step_error_ && !step_error_reported_) {
      const UpdateStateRecord& r = engine_->record();
      events.push_back({DaemonWallMs(), "update_error", r.target ? r.target->version : "", state.message()});
      step_error_reported_ = true;
    }
    last_step_error_ = state.message();
  } else {
    last_step_error_.clear();
  }
  for (const UpdateEvent& e : events) {
    const std::string line = EventLine(e);
    if (e.kind != "update_error") Log(line);
    summary_.events.push_back(line);
    if (record_events_.size() < kMaxEventsPerRecord) record_events_.push_back(line);
  }
  // A switch or a rollback: the pipeline goes on with the model now active. Outcomes of the
  // old model still queued belong to no window.
  if (running_ && running_->model_path != engine_->ActiveModelPath()) {
    StopPipeline();
    DrainOutcomes(true);
    StartPipeline();
  } else if (!running_) {
    StartPipeline();
  }
  UpdateShadow();
}

// During a health window the previous model runs beside the new one on a share of the frames:
// its agreement with the new model is what the rollout gate `min_agreement` reads.
void AgentLoop::UpdateShadow() {
  std::string candidate;
  const UpdateStateRecord& r = engine_->record();
  if (r.state == UpdateState::kHealth && r.target && !r.target->previous_slot.empty() && config_.shadow_rate > 0)
    candidate = config_.dir + "/slots/" + r.target->previous_slot + "/model.opm";
  if (candidate == shadow_for_) return;
  if (!shadow_for_.empty()) last_agreement_ = watch_->ShadowAgreement();
  watch_->SetShadow(nullptr);
  shadow_for_ = candidate;
  if (candidate.empty()) return;
  ShadowOptions o;
  o.rate = config_.shadow_rate;
  Expected<std::unique_ptr<ShadowComparator>> shadow = ShadowComparator::Create(candidate, o);
  if (!shadow) {
    Log("no shadow comparison with the previous model " + r.target->previous_version + ": " + shadow.message());
    return;
  }
  watch_->SetShadow(std::move(shadow).value());
  Log("comparing " + r.target->version + " with the previous model " + r.target->previous_version + " on " +
      std::to_string(static_cast<int>(config_.shadow_rate * 100 + 0.5)) + "% of the frames");
}

void AgentLoop::Report(int64_t now_ms) {
  const std::string version = engine_->active_version();
  PeriodContext context;
  context.model = config_.model;
  context.version = version;
  context.arena_bytes = watch_->arena_bytes();
  watch_->EndWindow(context);
  if (!context.agreement && last_agreement_) context.agreement = last_agreement_;
  last_agreement_.reset();
  nlohmann::json record = metrics_->EndPeriod(now_ms, context);
  if (version.empty()) return;  // nothing runs yet: the server takes records of a version only
  if (!record_events_.empty()) record["events"] = record_events_;
  Expected<int64_t> seq = buffer_->Append(record);
  if (!seq) {
    Log("telemetry: " + seq.message());
    return;
  }
  record_events_.clear();
  step_error_reported_ = false;
  ++summary_.records;
}

void AgentLoop::Upload(bool force) {
  if (!force && DaemonWallMs() < uploader_->next_attempt_ms()) return;
  const int64_t failures = uploader_->stats().failures;
  Expected<UploadStep> step = uploader_->Drain();
  if (!step) Log("telemetry: " + step.message());
  if (uploader_->stats().failures > failures) Log("telemetry upload: " + uploader_->stats().last_error);
}

Expected<AgentRunSummary> AgentLoop::Run() {
  Expected<Unit> opened = Open();
  if (!opened) return opened.error();
  Expected<BootReport> boot = engine_->Boot();
  if (!boot) return boot.error();
  if (boot->slot.empty())
    Log((boot->reason.empty() ? std::string("no model installed yet") : boot->reason) + ": waiting for the server");
  else
    Log("booted slot " + boot->slot + ": " + config_.model + " " + boot->version +
        (boot->fell_back ? " (fell back: " + boot->reason + ")" : ""));

  const int64_t start = DaemonSteadyMs();
  int64_t next_poll = start, next_report = start + config_.periods.report_ms, next_upload = start;
  while (!Stopping()) {
    const int64_t now = DaemonSteadyMs();
    if (options_.max_seconds > 0 && now - start >= options_.max_seconds * 1000) break;
    DrainOutcomes(false);
    if (running_ && running_->done.load()) {
      const pipeline::RunReport& r = running_->report;
      Log("the pipeline ended (" + r.stop_reason + (r.error.empty() ? "" : ": " + r.error) + "); it starts again");
      StopPipeline();
      next_pipeline_try_ms_ = now + kPipelineRetryMs;
    }
    if (!running_ && now >= next_pipeline_try_ms_) StartPipeline();
    if (now >= next_poll) {
      Poll();
      next_poll = now + config_.periods.poll_ms;
    }
    if (now >= next_report) {
      Report(DaemonWallMs());
      next_report += config_.periods.report_ms;
      if (next_report <= now) next_report = now + config_.periods.report_ms;
    }
    if (now >= next_upload) {
      Upload(false);
      next_upload = now + config_.periods.upload_ms;
    }
    std::this_thread::sleep_for(kTick);
  }
  // Stopping: the last period's record goes into the buffer and one upload is tried; what
  // does not arrive stays buffered for the next start.
  StopPipeline();
  DrainOutcomes(false);
  Report(DaemonWallMs());
  Upload(true);
  const TelemetryUploadStats& up = uploader_->stats();
  summary_.version = engine_->active_version();
  summary_.records_uploaded = up.records_inserted + up.records_duplicate;
  summary_.records_pending = buffer_->Stats().records;
  Log("stopped: " + std::to_string(summary_.records) + " telemetry records, " +
      std::to_string(summary_.records_uploaded) + " uploaded, " + std::to_string(summary_.records_pending) +
      " buffered");
  return summary_;
}

}  // namespace

Expected<AgentConfig> EnrollDevice(const EnrollOptions& o) {
  return Capture([&]() -> AgentConfig {
    auto must = [](auto expected) {
      if (!expected) throw Error(expected.message());
      return std::move(expected).value();
    };
    namespace fs = std::filesystem;
    if (o.dir.empty()) throw Error("enroll: no device directory given");
    std::error_code ec;
    fs::create_directories(o.dir, ec);
    if (ec) throw Error(o.dir + ": cannot create the device directory: " + ec.message());
    const std::string dir = fs::absolute(o.dir).lexically_normal().string();
    if (fs::exists(dir + "/" + kAgentConfigFile) || fs::exists(dir + "/credential"))
      throw Error(dir + ": the device is already enrolled (agent.json or credential exists)");
    const package::Key signing = must(package::ReadKeyFile(o.signing_key, {package::KeyType::kSigningPublic}));
    std::optional<package::Key> rollback;
    if (!o.rollback_key.empty())
      rollback = must(package::ReadKeyFile(o.rollback_key, {package::KeyType::kSigningPublic}));
    if (o.pipeline.empty()) throw Error("enroll: no pipeline file given");
    (void)must(pipeline::LoadPipelineConfig(o.pipeline));
    const std::string ca_file = o.ca_file.empty() ? "" : fs::absolute(o.ca_file).lexically_normal().string();

    // The device's own key pair first: a device whose enrollment fails keeps it for the next try.
    const std::string key_path = dir + "/device.key";
    std::optional<package::Key> device_public;
    if (!fs::exists(key_path)) {
      const package::KeyPair pair = package::GenerateDeviceKeyPair();
      must(package::WriteKeyFile(key_path, pair.secret));
      fs::remove(dir + "/device.pub", ec);
      must(package::WriteKeyFile(dir + "/device.pub", pair.public_key));
      device_public = pair.public_key;
    } else {
      // The public half is derived from the secret: a stale or edited device.pub never
      // reaches the server.
      device_public = package::DevicePublicKeyOf(must(package::ReadKeyFile(key_path, {package::KeyType::kDeviceSecret})));
    }

    FleetClientOptions c;
    c.server_url = o.server;
    c.ca_file = ca_file;
    std::unique_ptr<FleetClient> client = must(FleetClient::Create(c));
    // The server keeps the public key so that an operator can seal packages to this device.
    const Enrollment e = must(client->Enroll(o.token, o.name.empty() ? DaemonHostName() : o.name,
                                             package::ToBase64(device_public->bytes())));
    must(WriteSecretFile(dir + "/credential", e.credential + "\n"));
    if (!fs::exists(dir + "/fleet.pub")) must(package::WriteKeyFile(dir + "/fleet.pub", signing));
    if (rollback && !fs::exists(dir + "/rollback.pub")) must(package::WriteKeyFile(dir + "/rollback.pub", *rollback));

    nlohmann::json j = {{"format", kAgentConfigFormat},
                        {"server", o.server},
                        {"device_id", e.device_id},
                        {"name", o.name.empty() ? DaemonHostName() : o.name},
                        {"model", o.model},
                        {"tags", o.tags.empty() ? e.tags : o.tags},
                        {"credential_file", "credential"},
                        {"device_key", "device.key"},
                        {"signing_key", "fleet.pub"},
                        {"pipeline", fs::absolute(o.pipeline).lexically_normal().string()},
                        {"periods_ms",
                         {{"poll", o.periods.poll_ms}, {"report", o.periods.report_ms}, {"upload", o.periods.upload_ms}}},
                        {"health",
                         {{"window_ms", o.health.window_ms},
                          {"min_inferences", o.health.min_inferences},
                          {"max_error_rate_increase", o.health.max_error_rate_increase},
                          {"max_error_rate", o.health.max_error_rate},
                          {"max_p99_ratio", o.health.max_p99_ratio}}}};
    if (!ca_file.empty()) j["ca_file"] = ca_file;
    if (rollback) j["rollback_key"] = "rollback.pub";
    AgentConfig config = must(ParseAgentConfig(j, dir));
    must(io::WriteFileAtomic(dir + "/" + kAgentConfigFile, j.dump(2) + "\n"));
    return config;
  });
}

Expected<AgentRunSummary> RunAgent(const AgentConfig& config, const AgentRunOptions& options) {
  AgentLoop loop(config, options);
  return loop.Run();
}

}  // namespace outpost::agent
