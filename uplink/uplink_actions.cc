#include "uplink/uplink_actions.h"

#include "uplink/mqtt_action.h"
#include "uplink/webhook_action.h"

namespace outpost::uplink {

const std::vector<std::string>& UplinkActionTypes() {
  static const std::vector<std::string> types = {"webhook", "mqtt"};
  return types;
}

Expected<std::unique_ptr<pipeline::Action>> MakeUplinkAction(const nlohmann::json& spec,
                                                             const std::string& base_dir) {
  const auto type = spec.find("type");
  if (type == spec.end() || !type->is_string())
    return Error("action: \"type\" must be a string (" + spec.dump() + ")");
  if (*type == "webhook") {
    Expected<WebhookOptions> o = ParseWebhookOptions(spec);
    if (!o) return o.error();
    Expected<std::unique_ptr<WebhookAction>> a = WebhookAction::Create(*o);
    if (!a) return a.error();
    return std::unique_ptr<pipeline::Action>(std::move(*a));
  }
  if (*type == "mqtt") {
    Expected<MqttOptions> o = ParseMqttOptions(spec, base_dir);
    if (!o) return o.error();
    Expected<std::unique_ptr<MqttAction>> a = MqttAction::Create(*o);
    if (!a) return a.error();
    return std::unique_ptr<pipeline::Action>(std::move(*a));
  }
  return Error("action type '" + type->get<std::string>() + "' is not an uplink action");
}

}  // namespace outpost::uplink
