#include "tests/fleet/load/fleet_load.h"

#include <httplib.h>
#include <sodium.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "fleet/store/fleet_store.h"
#include "package/keys.h"
#include "package/pack.h"
#include "package/package_delta.h"
#include "tests/fleet/load/server_process.h"
#include "tests/package/package_fixtures.h"

namespace outpost::fleet::load {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr char kModel[] = "loadgen";
constexpr char kV1[] = "1.0.0";
constexpr char kV2[] = "2.0.0";
constexpr char kGroup[] = "load";
constexpr int kMaxAttempts = 30;            // then the request counts as failed for good
constexpr int64_t kDevicesPerToken = 1000;  // enrollment tokens are shared by this many devices

// kAdmin: the setup calls (tokens, uploads, desired states); kRollout: starting the rollout and
// reading its status while the load runs.
enum Endpoint { kEnroll, kPoll, kTelemetry, kDownload, kAdmin, kRollout, kEndpointCount };
constexpr const char* kEndpointNames[kEndpointCount] = {"enroll", "poll", "telemetry", "download", "admin",
                                                        "rollout"};

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Blake2bHex(const void* data, size_t size) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof(digest), static_cast<const unsigned char*>(data), size, nullptr, 0);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) out += hex[b >> 4], out += hex[b & 15];
  return out;
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  randombytes_buf(b.data(), b.size());
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) out += hex[c >> 4], out += hex[c & 15];
  return out;
}

struct EndpointStats {
  std::vector<float> ms;
  int64_t retries = 0, failures = 0, s4 = 0, s5 = 0;
};

struct SimDevice {
  std::string id;
  std::string auth;            // "Bearer <credential>"
  std::string version = kV1;   // what it runs
  int64_t next_seq = 1;        // every record below it is acknowledged
  int index = 0;
  bool cycled = false;
  bool reported_v2 = false;    // the server has its report of running v2
};

struct Answer {
  int status = 0;  // 0: no answer after every attempt
  std::string body;
  nlohmann::json json;
};

// What every client thread shares: the packages, the server's address and the counters the
// main thread watches.
struct Shared {
  const LoadOptions* o = nullptr;
  int port = 0;
  std::string admin_auth;
  std::map<std::string, std::vector<uint8_t>> packages;  // version -> package bytes
  std::unique_ptr<package::Key> signing_public;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0}, device_requests{0}, cycled{0}, on_v2{0}, resent{0}, duplicates{0}, deltas{0},
      full{0};
  std::mutex problems_mutex;
  std::vector<std::string> problems;
  int64_t problems_dropped = 0;

  void Problem(const std::string& what) {
    std::lock_guard<std::mutex> lock(problems_mutex);
    if (problems.size() < 20) problems.push_back(what);
    else ++problems_dropped;
  }
};

// One client thread: one keep-alive connection over which its devices take turns.
class Worker {
 public:
  explicit Worker(Shared& s, int index)
      : s_(s), client_("127.0.0.1", s.port), random_(static_cast<uint32_t>(index) * 7919u + 1) {
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);  // requests go out in two writes: no Nagle wait for the second
    const int t = s.o->timeout_ms;
    client_.set_connection_timeout(t / 1000, (t % 1000) * 1000);
    client_.set_read_timeout(t / 1000, (t % 1000) * 1000);
    client_.set_write_timeout(t / 1000, (t % 1000) * 1000);
  }

  EndpointStats stats[kEndpointCount];
  std::vector<SimDevice*> devices;

  // Sends until an answer that is not a server failure (a 5xx or no answer), backing off
  // between attempts as an agent would; the same body every time.
  Answer Send(Endpoint e, const std::string& method, const std::string& path, const std::string& auth,
              const std::string& body = "", const httplib::Headers& extra = {}) {
    httplib::Headers headers = extra;
    if (!auth.empty()) headers.emplace("Authorization", auth);
    EndpointStats& st = stats[e];
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      if (attempt > 0) {
        ++st.retries;
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 20 << std::min(attempt, 6))));
      }
      const auto start = SteadyClock::now();
      httplib::Result r = method == "GET"    ? client_.Get(path.c_str(), headers)
                          : method == "PUT"  ? client_.Put(path.c_str(), headers, body, "application/json")
                                             : client_.Post(path.c_str(), headers, body, "application/json");
      const float ms = static_cast<float>(Seconds(SteadyClock::now() - start) * 1000);
      if (e != kEnroll && e != kAdmin && e != kRollout) ++s_.device_requests;
      if (!r) {
        ++st.failures;
        continue;
      }
      st.ms.push_back(ms);
      if (r->status >= 500) {
        ++st.s5;
        continue;
      }
      if (r->status >= 400) ++st.s4;
      Answer a{r->status, std::move(r->body), nullptr};
      a.json = nlohmann::json::parse(a.body, nullptr, false);
      if (a.json.is_discarded()) a.json = nullptr;
      return a;
    }
    s_.Problem(std::string(kEndpointNames[e]) + " " + path + ": no answer after " + std::to_string(kMaxAttempts) +
               " attempts");
    return {};
  }

  Expected<SimDevice> Enroll(const std::string& token, int index) {
    const nlohmann::json body = {{"token", token}, {"name", "load-" + std::to_string(index)}};
    Answer a = Send(kEnroll, "POST", "/v1/enroll", "", body.dump());
    if (a.status != 201) return Error("enrolling device " + std::to_string(index) + ": HTTP " + std::to_string(a.status) + " " + a.body);
    SimDevice d;
    d.id = a.json.value("device_id", "");
    d.auth = "Bearer " + a.json.value("credential", "");
    d.index = index;
    return d;
  }

  // One cycle of a device: poll, maybe update, one telemetry batch.
  void Cycle(SimDevice& d) {
    PollAndUpdate(d);
    Telemetry(d);
    if (!d.cycled) {
      d.cycled = true;
      ++s_.cycled;
    }
  }

  void Run() {
    while (!s_.stop) {
      for (SimDevice* d : devices) {
        if (s_.stop) break;
        Cycle(*d);
      }
    }
  }

 private:
  // Reports what the device runs and returns what it should run (null: nothing to do, or no
  // usable answer).
  nlohmann::json Poll(SimDevice& d) {
    const nlohmann::json body = {{"model", kModel}, {"version", d.version}, {"status", {{"uptime_s", d.next_seq}}}};
    Answer a = Send(kPoll, "POST", "/v1/device/poll", d.auth, body.dump());
    if (a.status == 0) return nullptr;
    if (a.status != 200 || !a.json.is_object()) {
      s_.Problem("poll of " + d.id + ": HTTP " + std::to_string(a.status) + " " + a.body);
      return nullptr;
    }
    reported_ = true;
    return a.json["desired"];
  }

  void PollAndUpdate(SimDevice& d) {
    reported_ = false;
    const nlohmann::json desired = Poll(d);
    if (reported_) Count(d);
    if (!desired.is_object() || desired.value("version", "") == d.version) return;
    if (!Update(d, desired)) return;
    // An agent reports the version it installed at once.
    reported_ = false;
    Poll(d);
    if (reported_) Count(d);
  }

  // A device counts as running v2 once the server has its report saying so.
  void Count(SimDevice& d) {
    const bool v2 = d.version == kV2;
    if (v2 == d.reported_v2) return;
    d.reported_v2 = v2;
    if (v2) ++s_.on_v2;
    else --s_.on_v2;
  }

  // Range requests of range_kib each, resuming where the last answered one ended.
  Expected<std::vector<uint8_t>> Download(const SimDevice& d, const std::string& path, int64_t size) {
    std::vector<uint8_t> bytes;
    const int64_t chunk = int64_t{s_.o->range_kib} * 1024;
    while (static_cast<int64_t>(bytes.size()) < size) {
      const int64_t from = static_cast<int64_t>(bytes.size());
      const int64_t to = std::min(size, from + chunk) - 1;
      Answer a = Send(kDownload, "GET", path, d.auth, "",
                      {{"Range", "bytes=" + std::to_string(from) + "-" + std::to_string(to)}});
      if (a.status != 206 && a.status != 200) return Error("HTTP " + std::to_string(a.status) + " " + a.body.substr(0, 200));
      if (a.status == 200) bytes.clear();  // the whole file
      if (a.body.empty()) return Error("an empty answer to a range request");
      bytes.insert(bytes.end(), a.body.begin(), a.body.end());
    }
    if (static_cast<int64_t>(bytes.size()) != size)
      return Error("got " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(size));
    return bytes;
  }

  // Downloads, checks and installs the desired version; false when that failed (the device
  // tries again at its next poll).
  bool Update(SimDevice& d, const nlohmann::json& desired) {
    const std::string version = desired.value("version", "");
    const std::string digest = desired.value("digest", "");
    auto installed = s_.packages.find(d.version);
    std::vector<uint8_t> package;
    const nlohmann::json* delta = desired.contains("delta") ? &desired["delta"] : nullptr;
    if (delta && installed != s_.packages.end() && delta->value("base_version", "") == d.version) {
      Expected<std::vector<uint8_t>> bytes = Download(d, delta->value("url", ""), delta->value("size", int64_t{0}));
      if (!bytes) return Fail("delta download by " + d.id + ": " + bytes.message());
      if (Blake2bHex(bytes->data(), bytes->size()) != delta->value("digest", ""))
        return Fail("delta download by " + d.id + ": digest mismatch");
      Expected<package::PatchedPackage> patched = package::ApplyPackageDelta(installed->second, *bytes, *s_.signing_public);
      if (!patched) return Fail("delta of " + d.id + " does not apply: " + patched.message());
      package = std::move(patched->bytes);
      ++s_.deltas;
    } else {
      Expected<std::vector<uint8_t>> bytes = Download(d, desired.value("url", ""), desired.value("size", int64_t{0}));
      if (!bytes) return Fail("package download by " + d.id + ": " + bytes.message());
      package = std::move(*bytes);
      ++s_.full;
    }
    if (Blake2bHex(package.data(), package.size()) != digest)
      return Fail("update of " + d.id + " to " + version + ": the package's digest does not match");
    d.version = version;
    return true;
  }

  bool Fail(const std::string& what) {
    s_.Problem(what);
    return false;
  }

  void Telemetry(SimDevice& d) {
    const int n = s_.o->batch;
    nlohmann::json records = nlohmann::json::array();
    const int64_t now = WallMs();
    for (int i = 0; i < n; ++i) {
      records.push_back({{"seq", d.next_seq + i},
                         {"time_ms", now},
                         {"model", kModel},
                         {"version", d.version},
                         {"inferences", 100},
                         {"errors", 0},
                         {"latency_p50_ms", 3.0},
                         {"latency_p99_ms", 8.0 + 0.1 * (d.index % 5)},
                         {"agreement", 0.99},
                         {"drift_psi", 0.02},
                         {"temperature_c", 50.0},
                         {"rss_bytes", 1 << 20}});
    }
    const std::string body = nlohmann::json{{"records", records}}.dump();
    Answer a = Send(kTelemetry, "POST", "/v1/device/telemetry", d.auth, body);
    if (a.status == 0) return;  // not acknowledged: the same numbers go again next cycle
    if (a.status != 200 || !a.json.is_object()) {
      s_.Problem("telemetry of " + d.id + ": HTTP " + std::to_string(a.status) + " " + a.body);
      return;
    }
    const int64_t inserted = a.json.value("inserted", int64_t{-1}), dups = a.json.value("duplicates", int64_t{-1});
    if (inserted < 0 || dups < 0 || inserted + dups != n)
      s_.Problem("telemetry of " + d.id + ": answered " + a.body + " for " + std::to_string(n) + " records");
    s_.duplicates += dups;
    d.next_seq += n;
    s_.acked += n;
    // An agent whose answer was lost sends the batch again.
    if (std::uniform_real_distribution<double>(0, 1)(random_) < s_.o->resend_share) {
      ++s_.resent;
      Answer again = Send(kTelemetry, "POST", "/v1/device/telemetry", d.auth, body);
      if (again.status == 0) return;
      if (again.status != 200 || again.json.value("inserted", int64_t{-1}) != 0) {
        s_.Problem("a batch of " + d.id + " sent again: answered HTTP " + std::to_string(again.status) + " " + again.body);
        return;
      }
      s_.duplicates += again.json.value("duplicates", int64_t{0});
    }
  }

  Shared& s_;
  httplib::Client client_;
  bool reported_ = false;  // the last poll was answered 200
  std::mt19937 random_;
};

// Runs f(worker, i) for every i in [0, count) on every worker's thread, items dealt round-robin.
template <typename F>
void ForEachOnWorkers(std::vector<std::unique_ptr<Worker>>& workers, int count, F f) {
  std::vector<std::thread> threads;
  const int w = static_cast<int>(workers.size());
  for (int k = 0; k < w; ++k) {
    threads.emplace_back([&, k] {
      for (int i = k; i < count; i += w) f(*workers[static_cast<size_t>(k)], i);
    });
  }
  for (auto& t : threads) t.join();
}

double Percentile(std::vector<float>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

Expected<std::vector<uint8_t>> MakePackage(const std::string& version, size_t model_bytes, const package::Key& secret) {
  package::PackOptions o;
  o.name = kModel;
  o.version = version;
  o.created = "2026-01-02T03:04:05Z";
  o.accuracy = 0.9;
  return package::PackModel(outpost::testing::BigAddModelOpm(model_bytes), secret, o);
}

std::string Number(double v, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

}  // namespace

Expected<LoadReport> RunFleetLoad(const LoadOptions& o) {
  if (sodium_init() < 0) return Error("libsodium failed to initialize");
  if (o.devices < 1 || o.connections < 1 || o.batch < 1 || o.batch > 1000 || o.range_kib < 1 || o.model_kib < 1)
    return Error("devices, connections, batch (1-1000), range and model sizes must be positive");
  const auto run_start = SteadyClock::now();
  auto say = [&](const std::string& line) {
    if (o.progress) o.progress("[" + Number(Seconds(SteadyClock::now() - run_start), 1) + " s] " + line);
  };
  LoadReport report;
  report.backend = o.backend;
  report.devices = o.devices;
  report.connections = o.connections;
  report.server_threads = o.server_threads > 0 ? o.server_threads : std::min(256, o.connections + 4);

  // The work directory: data, keys and the server's log.
  std::string dir = o.work_dir;
  const bool own_dir = dir.empty();
  if (own_dir) {
    char pattern[] = "/tmp/outpost_fleet_load_XXXXXX";
    if (!mkdtemp(pattern)) return Error("cannot create a temporary directory");
    dir = pattern;
  } else {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Error("cannot create " + dir + ": " + ec.message());
  }
  struct Cleanup {
    std::string dir;
    bool remove;
    ~Cleanup() {
      std::error_code ec;
      if (remove) fs::remove_all(dir, ec);
    }
  } cleanup{dir, own_dir && !o.keep_work_dir};

  Shared s;
  s.o = &o;
  const package::KeyPair keys = package::GenerateSigningKeyPair();
  s.signing_public = std::make_unique<package::Key>(keys.public_key);
  std::error_code ec;
  fs::remove(dir + "/fleet.pub", ec);
  if (auto w = package::WriteKeyFile(dir + "/fleet.pub", keys.public_key); !w) return w.error();
  const std::string admin_token = RandomHex(16);
  std::ofstream(dir + "/admin.token") << admin_token << "\n";
  s.admin_auth = "Bearer " + admin_token;
  const std::string store_url = o.store_url.empty() ? "sqlite:" + dir + "/data/fleet.db" : o.store_url;

  // Two versions of one small model; v2's weights differ from v1's, so the delta has work to do.
  const size_t model_bytes = static_cast<size_t>(o.model_kib) * 1024;
  Expected<std::vector<uint8_t>> v1 = MakePackage(kV1, model_bytes, keys.secret);
  if (!v1) return Error("making package " + std::string(kV1) + ": " + v1.message());
  Expected<std::vector<uint8_t>> v2 = MakePackage(kV2, model_bytes + 4096, keys.secret);
  if (!v2) return Error("making package " + std::string(kV2) + ": " + v2.message());
  s.packages[kV1] = *v1;
  s.packages[kV2] = *v2;

  if (!own_dir || o.keep_work_dir) say("work directory (data, keys, server.log): " + dir);
  say("starting " + o.outpost_bin + " fleet serve (" + o.backend + ", " + std::to_string(report.server_threads) +
      " threads)");
  Expected<ServerProcess> server = ServerProcess::Start(
      o.outpost_bin,
      {"fleet", "serve", "--data", dir + "/data", "--admin-token-file", dir + "/admin.token", "--signing-key",
       dir + "/fleet.pub", "--db", store_url, "--listen", "127.0.0.1:" + std::to_string(o.port), "--threads",
       std::to_string(report.server_threads), "--tick-ms", std::to_string(o.tick_ms)},
      dir + "/server.log");
  if (!server) return server.error();
  s.port = server->port();
  say("server at " + server->url() + " (pid " + std::to_string(server->pid()) + ")");

  std::vector<std::unique_ptr<Worker>> workers;
  for (int k = 0; k < o.connections; ++k) workers.push_back(std::make_unique<Worker>(s, k));
  // The operator's calls from this thread go over a connection of their own (a client is used
  // by one thread at a time).
  auto admin_worker = std::make_unique<Worker>(s, o.connections);
  Worker& admin = *admin_worker;
  auto admin_call = [&](const std::string& method, const std::string& path, const nlohmann::json& body,
                        int expect) -> Expected<nlohmann::json> {
    const Endpoint e = path.rfind("/v1/rollouts", 0) == 0 ? kRollout : kAdmin;
    Answer a = admin.Send(e, method, path, s.admin_auth, body.is_null() ? "" : body.dump());
    if (a.status != expect)
      return Error(method + " " + path + ": HTTP " + std::to_string(a.status) + " " + a.body.substr(0, 500));
    return a.json;
  };

  // Enrollment: tokens shared by up to kDevicesPerToken devices each.
  std::vector<std::string> tokens;
  for (int64_t first = 0; first < o.devices; first += kDevicesPerToken) {
    Expected<nlohmann::json> t = admin_call(
        "POST", "/v1/enrollment-tokens",
        {{"group", kGroup}, {"tags", {"load"}}, {"uses", kDevicesPerToken + 100}, {"expires_in_s", 86400}}, 201);
    if (!t) return t.error();
    tokens.push_back((*t)["token"]);
  }
  std::vector<SimDevice> devices(static_cast<size_t>(o.devices));
  say("enrolling " + std::to_string(o.devices) + " devices over " + std::to_string(o.connections) + " connections");
  std::atomic<int> enrolled{0};
  std::mutex enroll_error_mutex;
  std::string enroll_error;
  const auto enroll_start = SteadyClock::now();
  ForEachOnWorkers(workers, o.devices, [&](Worker& w, int i) {
    Expected<SimDevice> d = w.Enroll(tokens[static_cast<size_t>(i / kDevicesPerToken)], i);
    if (!d) {
      std::lock_guard<std::mutex> lock(enroll_error_mutex);
      if (enroll_error.empty()) enroll_error = d.message();
      return;
    }
    devices[static_cast<size_t>(i)] = std::move(*d);
    if (const int n = ++enrolled; n % 2000 == 0) say("enrolled " + std::to_string(n) + "/" + std::to_string(o.devices));
  });
  report.enroll_s = Seconds(SteadyClock::now() - enroll_start);
  if (!enroll_error.empty()) return Error(enroll_error);
  report.enroll_per_s = o.devices / report.enroll_s;
  say("enrolled " + std::to_string(o.devices) + " devices in " + Number(report.enroll_s, 1) + " s (" +
      Number(report.enroll_per_s) + "/s)");

  // The registry: v1, then v2 with v1 as its parent. Every device is to run v1.
  for (const char* version : {kV1, kV2}) {
    const std::vector<uint8_t>& p = s.packages[version];
    Answer a = admin.Send(kAdmin, "POST", version == std::string(kV1) ? "/v1/models" : "/v1/models?parent=1.0.0",
                          s.admin_auth, std::string(p.begin(), p.end()));
    if (a.status != 201) return Error("uploading " + std::string(version) + ": HTTP " + std::to_string(a.status) + " " + a.body);
  }
  say("uploaded " + std::string(kV1) + " and " + kV2 + " (" + std::to_string(v2->size()) + " bytes); setting every device's desired state to " + kV1);
  std::atomic<int> desired_failures{0};
  ForEachOnWorkers(workers, o.devices, [&](Worker& w, int i) {
    const SimDevice& d = devices[static_cast<size_t>(i)];
    Answer a = w.Send(kAdmin, "PUT", "/v1/devices/" + d.id + "/desired", s.admin_auth,
                      nlohmann::json{{"model", kModel}, {"version", kV1}}.dump());
    if (a.status != 200) ++desired_failures;
  });
  if (desired_failures > 0) return Error(std::to_string(desired_failures.load()) + " devices' desired state could not be set");

  // Steady state, with the rollout started part-way through.
  for (size_t i = 0; i < devices.size(); ++i) workers[i % workers.size()]->devices.push_back(&devices[i]);
  say("steady state: every device polls and sends batches of " + std::to_string(o.batch) + " records");
  const auto steady_start = SteadyClock::now();
  const int64_t acked_at_start = s.acked, requests_at_start = s.device_requests;
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->Run(); });

  std::string rollout_id;
  SteadyClock::time_point rollout_start{}, last_progress = steady_start, last_rollout_check{};
  std::string rollout_state;
  int64_t rollout_stage = -1;
  bool all_on_v2 = false, completed = false;
  const nlohmann::json plan = {
      {"stages",
       {{{"percent", 1}, {"min_devices", 1}, {"hold_s", o.hold_s}},
        {{"percent", 10}, {"hold_s", o.hold_s}},
        {{"percent", 50}, {"hold_s", o.hold_s}},
        {{"percent", 100}, {"hold_s", 0}}}},
      {"gates", {{"min_records", o.min_records}}},
      {"max_wait_s", std::max(60, static_cast<int>(o.rollout_timeout_s))}};
  Error rollout_error("");
  bool rollout_failed = false;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the counters are polled
    const auto now = SteadyClock::now();
    const double elapsed = Seconds(now - steady_start);
    if (rollout_id.empty() && s.cycled == o.devices && elapsed >= o.rollout_after_s) {
      Expected<nlohmann::json> r = admin_call(
          "POST", "/v1/rollouts", {{"model", kModel}, {"version", kV2}, {"group", kGroup}, {"plan", plan}}, 201);
      if (!r) {
        rollout_error = r.error();
        rollout_failed = true;
        break;
      }
      rollout_id = (*r)["id"];
      rollout_start = now;
      say("rollout " + rollout_id + " of " + kV2 + " started: 1% -> 10% -> 50% -> 100%");
    }
    if (!rollout_id.empty() && !all_on_v2 && s.on_v2 == o.devices) {
      all_on_v2 = true;
      report.rollout_s = Seconds(now - rollout_start);
      say("every device runs " + std::string(kV2) + ", " + Number(report.rollout_s, 1) + " s after the rollout started");
    }
    if (!rollout_id.empty() && !completed && now - last_rollout_check > std::chrono::milliseconds(250)) {
      last_rollout_check = now;
      // The list carries state and stage without the stage's health, which costs the server a
      // read of every telemetry row in the stage's window (GET /v1/rollouts/{id}).
      Expected<nlohmann::json> list = admin_call("GET", "/v1/rollouts", nullptr, 200);
      const nlohmann::json* r = nullptr;
      if (list && (*list)["rollouts"].is_array()) {
        for (const auto& item : (*list)["rollouts"])
          if (item.value("id", "") == rollout_id) r = &item;
      }
      if (r) {
        rollout_state = r->value("state", "");
        rollout_stage = r->value("stage", int64_t{-1});
        if (rollout_state == "completed") {
          completed = true;
          report.rollout_completed_s = Seconds(now - rollout_start);
          say("the server marks the rollout completed, " + Number(report.rollout_completed_s, 1) + " s after it started");
        } else if (rollout_state != "running") {
          rollout_error = Error("the rollout stopped: " + rollout_state + ": " + r->value("reason", ""));
          rollout_failed = true;
          break;
        }
      }
    }
    if (now - last_progress >= std::chrono::seconds(5)) {
      last_progress = now;
      say("steady: " + std::to_string(s.cycled.load()) + "/" + std::to_string(o.devices) + " devices cycled, " +
          std::to_string(s.acked.load() - acked_at_start) + " records acknowledged, " +
          (rollout_id.empty() ? std::string("rollout not started")
                              : "rollout stage " + std::to_string(rollout_stage) + " " + rollout_state + ", " +
                                    std::to_string(s.on_v2.load()) + " devices on " + kV2));
    }
    if (elapsed >= o.steady_s && all_on_v2 && completed) break;
    if (!rollout_id.empty() && Seconds(now - rollout_start) > o.rollout_timeout_s) {
      rollout_error = Error("the rollout did not reach 100% within " + Number(o.rollout_timeout_s) + " s (" +
                            std::to_string(s.on_v2.load()) + " devices on " + kV2 + ", state " + rollout_state + ")");
      rollout_failed = true;
      break;
    }
    if (rollout_id.empty() && elapsed > o.rollout_after_s + o.rollout_timeout_s) {
      rollout_error = Error("not every device completed a cycle in " + Number(elapsed) + " s");
      rollout_failed = true;
      break;
    }
  }
  const auto steady_end = SteadyClock::now();
  report.records_accepted = s.acked - acked_at_start;
  report.requests = s.device_requests - requests_at_start;
  s.stop = true;
  for (auto& t : threads) t.join();  // each device finishes its cycle: its last batch is acknowledged or not
  report.steady_s = Seconds(steady_end - steady_start);
  report.records_per_s = report.records_accepted / report.steady_s;
  report.requests_per_s = report.requests / report.steady_s;
  if (rollout_failed) report.problems.push_back(rollout_error.what());
  say("steady phase over after " + Number(report.steady_s, 1) + " s; checking the stored telemetry");

  report.server_peak_rss_kib = server->PeakRssKib();
  report.server_cpu_s = server->CpuSeconds();

  // Every acknowledged record stored exactly once: per device, the count and the highest
  // sequence number both equal the last acknowledged number (sequence numbers are unique per
  // device, so equal count and maximum also means no gap).
  Expected<std::unique_ptr<FleetStore>> store = FleetStore::Open(store_url, 2);
  if (!store) return Error("opening the store to check it: " + store.message());
  for (const SimDevice& d : devices) {
    const int64_t expected = d.next_seq - 1;
    Expected<int64_t> count = (*store)->CountTelemetry(d.id);
    Expected<int64_t> last = (*store)->LastTelemetrySeq(d.id);
    if (!count || !last) return Error("reading the stored telemetry: " + (count ? last.message() : count.message()));
    report.records_expected += expected;
    if (*count < expected) report.lost += expected - *count;
    if (*count > expected) report.duplicated += *count - expected;
    if (*count != expected || *last != expected) {
      if (report.devices_mismatched++ == 0)
        report.first_mismatch = d.id + ": " + std::to_string(*count) + " records stored, highest seq " +
                                std::to_string(*last) + ", " + std::to_string(expected) + " acknowledged";
    }
  }
  Expected<int64_t> total = (*store)->CountTelemetry("");
  if (!total) return Error("reading the stored telemetry: " + total.message());
  report.records_stored = *total;
  DeviceFilter on_v2;
  on_v2.model = kModel;
  on_v2.version = kV2;
  Expected<int64_t> v2_devices = (*store)->CountDevices(on_v2);
  if (!v2_devices) return Error("counting devices: " + v2_devices.message());
  report.devices_on_v2 = *v2_devices;
  store->reset();

  workers.push_back(std::move(admin_worker));
  for (int e = 0; e < kEndpointCount; ++e) {
    EndpointFigures f;
    f.name = kEndpointNames[e];
    std::vector<float> all;
    for (auto& w : workers) {
      const EndpointStats& st = w->stats[e];
      all.insert(all.end(), st.ms.begin(), st.ms.end());
      f.retries += st.retries;
      f.failures += st.failures;
      f.status_4xx += st.s4;
      f.status_5xx += st.s5;
    }
    std::sort(all.begin(), all.end());
    f.requests = static_cast<int64_t>(all.size());
    f.p50_ms = Percentile(all, 0.50);
    f.p90_ms = Percentile(all, 0.90);
    f.p99_ms = Percentile(all, 0.99);
    f.max_ms = all.empty() ? 0 : all.back();
    report.endpoints.push_back(f);
    if (f.status_5xx > 0) report.problems.push_back(f.name + ": " + std::to_string(f.status_5xx) + " answers 5xx");
    if (f.status_4xx > 0) report.problems.push_back(f.name + ": " + std::to_string(f.status_4xx) + " answers 4xx");
  }
  // Closing the keep-alive connections first lets the server stop at once rather than wait
  // for them to time out.
  workers.clear();
  // A stop that fails (a crash under load) is a finding too.
  if (Expected<Unit> stopped = server->Stop(); !stopped) report.problems.push_back(stopped.message());
  report.resent_batches = s.resent;
  report.duplicates_reported = s.duplicates;
  report.deltas = s.deltas;
  report.full_downloads = s.full;

  for (const std::string& p : s.problems) report.problems.push_back(p);
  if (s.problems_dropped > 0) report.problems.push_back("and " + std::to_string(s.problems_dropped) + " more");
  if (report.lost > 0 || report.duplicated > 0 || report.devices_mismatched > 0)
    report.problems.push_back("telemetry: " + std::to_string(report.lost) + " records lost, " +
                              std::to_string(report.duplicated) + " duplicated, " +
                              std::to_string(report.devices_mismatched) + " devices mismatched (first: " +
                              report.first_mismatch + ")");
  if (report.records_stored != report.records_expected)
    report.problems.push_back("telemetry: " + std::to_string(report.records_stored) + " records stored in all, " +
                              std::to_string(report.records_expected) + " acknowledged");
  if (report.devices_on_v2 != o.devices)
    report.problems.push_back("the registry shows " + std::to_string(report.devices_on_v2) + " of " +
                              std::to_string(o.devices) + " devices on " + kV2);
  report.wall_s = Seconds(SteadyClock::now() - run_start);
  say(report.ok() ? "all checks hold" : std::to_string(report.problems.size()) + " checks failed");
  return report;
}

std::string FormatLoadReport(const LoadReport& r) {
  std::string out;
  auto row = [&](const std::string& what, const std::string& value) { out += "| " + what + " | " + value + " |\n"; };
  out += "| figure | value |\n|---|---:|\n";
  row("backend", r.backend);
  row("devices", std::to_string(r.devices));
  row("client connections / server threads", std::to_string(r.connections) + " / " + std::to_string(r.server_threads));
  row("enrollment", Number(r.enroll_per_s) + " devices/s (" + Number(r.enroll_s, 1) + " s)");
  row("steady phase", Number(r.steady_s, 1) + " s");
  row("telemetry records accepted", std::to_string(r.records_accepted) + " (" + Number(r.records_per_s) + " records/s)");
  row("device requests", std::to_string(r.requests) + " (" + Number(r.requests_per_s) + " requests/s)");
  row("batches sent again on purpose / duplicates absorbed",
      std::to_string(r.resent_batches) + " / " + std::to_string(r.duplicates_reported) + " records");
  row("rollout 1% -> 100%: every device on v2", Number(r.rollout_s, 1) + " s");
  row("rollout marked completed by the server", Number(r.rollout_completed_s, 1) + " s");
  row("updates by delta / full package", std::to_string(r.deltas) + " / " + std::to_string(r.full_downloads));
  row("records acknowledged / stored", std::to_string(r.records_expected) + " / " + std::to_string(r.records_stored));
  row("lost / duplicated", std::to_string(r.lost) + " / " + std::to_string(r.duplicated));
  row("server peak RSS (VmHWM)", Number(static_cast<double>(r.server_peak_rss_kib) / 1024, 1) + " MiB");
  row("server CPU (user + system)", Number(r.server_cpu_s, 1) + " s");
  row("wall time", Number(r.wall_s, 1) + " s");
  out += "\n| endpoint | requests | p50 ms | p90 ms | p99 ms | max ms | retries | no answer | 4xx | 5xx |\n"
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const EndpointFigures& f : r.endpoints) {
    out += "| " + f.name + " | " + std::to_string(f.requests) + " | " + Number(f.p50_ms, 1) + " | " +
           Number(f.p90_ms, 1) + " | " + Number(f.p99_ms, 1) + " | " + Number(f.max_ms, 1) + " | " +
           std::to_string(f.retries) + " | " + std::to_string(f.failures) + " | " + std::to_string(f.status_4xx) +
           " | " + std::to_string(f.status_5xx) + " |\n";
  }
  out += r.ok() ? "\nchecks: every acknowledged record stored exactly once, every device on v2, no 4xx/5xx\n"
                : "\nCHECKS FAILED:\n";
  for (const std::string& p : r.problems) out += "  - " + p + "\n";
  return out;
}

nlohmann::json LoadReportJson(const LoadReport& r) {
  nlohmann::json endpoints = nlohmann::json::object();
  for (const EndpointFigures& f : r.endpoints) {
    endpoints[f.name] = {{"requests", f.requests}, {"retries", f.retries}, {"no_answer", f.failures},
                         {"status_4xx", f.status_4xx}, {"status_5xx", f.status_5xx}, {"p50_ms", f.p50_ms},
                         {"p90_ms", f.p90_ms}, {"p99_ms", f.p99_ms}, {"max_ms", f.max_ms}};
  }
  return {{"backend", r.backend},
          {"devices", r.devices},
          {"connections", r.connections},
          {"server_threads", r.server_threads},
          {"enroll_s", r.enroll_s},
          {"enroll_per_s", r.enroll_per_s},
          {"steady_s", r.steady_s},
          {"records_accepted", r.records_accepted},
          {"records_per_s", r.records_per_s},
          {"requests", r.requests},
          {"requests_per_s", r.requests_per_s},
          {"resent_batches", r.resent_batches},
          {"duplicates_reported", r.duplicates_reported},
          {"rollout_s", r.rollout_s},
          {"rollout_completed_s", r.rollout_completed_s},
          {"deltas", r.deltas},
          {"full_downloads", r.full_downloads},
          {"devices_on_v2", r.devices_on_v2},
          {"records_expected", r.records_expected},
          {"records_stored", r.records_stored},
          {"lost", r.lost},
          {"duplicated", r.duplicated},
          {"devices_mismatched", r.devices_mismatched},
          {"server_peak_rss_kib", r.server_peak_rss_kib},
          {"server_cpu_s", r.server_cpu_s},
          {"wall_s", r.wall_s},
          {"endpoints", endpoints},
          {"ok", r.ok()},
          {"problems", r.problems}};
}

}  // namespace outpost::fleet::load
