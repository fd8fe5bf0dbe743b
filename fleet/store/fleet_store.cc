// Opening the store, rollout state names and the tag encoding. The store's methods live in
// store_devices.cc, store_models.cc, store_telemetry.cc, store_rollouts.cc and store_alerts.cc.
#include "fleet/store/fleet_store.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "fleet/store/schema.h"
#include "fleet/store/store_internal.h"

namespace outpost::fleet {

Expected<std::unique_ptr<FleetStore>> FleetStore::Open(const std::string& url, int connections) {
  auto db = OpenSqlDatabase(url, connections);
  if (!db) return db.error();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  auto schema = CreateSchema(*db.value(), now_ms);
  if (!schema) return Error("cannot create the fleet schema: " + schema.message());
  return std::make_unique<FleetStore>(std::move(db.value()));
}

FleetStore::FleetStore(std::unique_ptr<SqlDatabase> db) : db_(std::move(db)) {}

const char* RolloutStateName(RolloutState state) {
  switch (state) {
    case RolloutState::kRunning: return "running";
    case RolloutState::kPaused: return "paused";
    case RolloutState::kCompleted: return "completed";
    case RolloutState::kHalted: return "halted";
    case RolloutState::kAborted: return "aborted";
  }
  return "unknown";
}

Expected<RolloutState> ParseRolloutState(const std::string& name) {
  for (RolloutState s : {RolloutState::kRunning, RolloutState::kPaused, RolloutState::kCompleted,
                         RolloutState::kHalted, RolloutState::kAborted})
    if (name == RolloutStateName(s)) return s;
  return Error("unknown rollout state '" + name + "' (expected running, paused, completed, halted or aborted)");
}

namespace internal {

std::string TagsToJson(const std::vector<std::string>& tags) { 
  return nlohmann::json(tags).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> TagsFromJson(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> tags;
  if (!j.is_array()) return tags;
  for (const auto& t : j)
    if (t.is_string()) tags.push_back(t.get<std::string>());
  return tags;
}

}  // namespace internal
}  // namespace outpost::fleet
