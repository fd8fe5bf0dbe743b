#include "uplink/uplink_actions.h"

#include "uplink/mqtt_action.h"
#include "uplink/webhook_action.h"

namespace outpost::uplink {

Expected<std::unique_ptr<pipeline::Action>> MakeUplinkAction(const nlohmann::json& spec,
                                                             const std::string& base_dir) {
  const auto type = spec.find("type");
  if (type == spec.end() || !type->is_string()) return std::unique_ptr<pipeline::Action>();
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
  return std::unique_ptr<pipeline::Action>();
}

}  // namespace outpost::uplink
