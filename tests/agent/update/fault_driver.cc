// The fault test's device: opens and boots the update engine on a device directory, feeds it
// inference outcomes of the active model (errors for --fail-version, to fail its health
// window) and steps it until it rests in check. Killed by the test at any moment (or by
// OUTPOST_AGENT_CRASH_AT); exit 0 and one JSON line on stdout when it finishes.
//
//   agent_fault_driver DIR SERVER_URL CREDENTIAL DEVICE_ID FLEET_PUB [FAIL_VERSION [no-delta]]
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/client/fleet_client.h"
#include "agent/update/update_engine.h"
#include "io/model_file.h"
#include "io/session.h"
#include "package/keys.h"

namespace {

using outpost::agent::UpdateEngine;
using outpost::agent::UpdateState;

int Fail(const std::string& what) {
  std::fprintf(stderr, "agent_fault_driver: %s\n", what.c_str());
  return 2;
}

// Runs the active model once (its embedded self-test as the input) and reports the outcome.
// The latency reported is fixed: this test is about crashes, not about timing noise failing
// a health window.
void Infer(UpdateEngine& engine, const std::string& fail_version) {
  bool ok = false;
  if (auto model = outpost::io::LoadedModel::Open(engine.ActiveModelPath()); model.ok()) {
    if (auto session = outpost::io::Session::Create(*model); session.ok()) {
      ok = (*session)->RunSelfTest().ok();
    }
  }
  if (engine.active_version() == fail_version) ok = false;
  engine.RecordInference(ok, 1.0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) return Fail("usage: agent_fault_driver DIR SERVER_URL CREDENTIAL DEVICE_ID FLEET_PUB [FAIL_VERSION [no-delta]]");
  const std::string fail_version = argc > 6 ? argv[6] : "";
  const bool use_deltas = !(argc > 7 && std::string(argv[7]) == "no-delta");
  auto key = outpost::package::ReadKeyFile(argv[5], {outpost::package::KeyType::kSigningPublic});
  if (!key.ok()) return Fail(key.message());
  outpost::agent::FleetClientOptions co;
  co.server_url = argv[2];
  co.credential = argv[3];
  auto client = outpost::agent::FleetClient::Create(co);
  if (!client.ok()) return Fail(client.message());

  outpost::agent::UpdateEngineOptions o;
  o.device_dir = argv[1];
  o.device_id = argv[4];
  o.model = "detector";
  o.tags = {"camera"};
  o.signing_public = *key;
  o.use_deltas = use_deltas;
  o.self_test_runs = 2;
  o.health_window_ms = 0;
  o.health_min_inferences = 20;
  o.health_persist_every = 5;
  auto engine = UpdateEngine::Open(o, client->get());
  if (!engine.ok()) return Fail(engine.message());
  UpdateEngine& e = **engine;
  auto boot = e.Boot();
  if (!boot.ok()) return Fail(boot.message());
  // The running model's outcomes: the baseline of the next health window.
  if (!e.ActiveModelPath().empty() && e.state() == UpdateState::kCheck)
    for (int i = 0; i < 20; ++i) Infer(e, fail_version);

  UpdateState before = e.state();
  for (int step = 0; step < 200; ++step) {
    if (e.state() == UpdateState::kHealth) Infer(e, fail_version);
    auto s = e.Step();
    if (!s.ok()) return Fail(s.message());
    if (*s == UpdateState::kCheck && before == UpdateState::kCheck) {
      nlohmann::json out = {{"version", e.active_version()},
                            {"slot", boot->slot},
                            {"fell_back", boot->fell_back},
                            {"failed_versions", e.record().failed_versions},
                            {"last_error", e.record().last_error}};
      std::printf("%s\n", out.dump().c_str());
      return 0;
    }
    before = *s;
  }
  return Fail("the update did not settle in 200 steps");
}
