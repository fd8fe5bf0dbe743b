// Action "webhook": POSTs each event's JSON to an HTTP(S) URL.
//
//   {"type": "webhook", "url": "http://10.0.0.5:8080/events", "timeout_ms": 2000,
//    "retries": 2, "queue": 256, "headers": {"Authorization": "Bearer ..."}}
//
// Delivery runs on its own thread behind a bounded queue (DeliveryQueue): a slow or dead
// receiver never stalls the pipeline. A 2xx reply is delivered; a 5xx reply or a connection
// failure is retried with a doubling pause (100 ms, 200 ms, ...); a 4xx reply is not (the
// request itself is wrong). Keeping events through long outages is the device agent's
// store-and-forward buffer, not this action's job.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "pipeline/core/action.h"
#include "uplink/delivery_queue.h"

namespace outpost::uplink {

struct WebhookOptions {
  std::string url;  // http://host[:port][/path] or https://...
  std::map<std::string, std::string> headers;
  int timeout_ms = 2000;
  int retries = 2;
  size_t queue = 256;
};

Expected<WebhookOptions> ParseWebhookOptions(const nlohmann::json& options);

class WebhookAction : public pipeline::Action {
 public:
  static Expected<std::unique_ptr<WebhookAction>> Create(const WebhookOptions& options);
  ~WebhookAction() override;

  // Queues the event; an Error means the queue was full and the oldest event was dropped.
  Expected<Unit> Emit(std::string_view json) override;
  // Waits up to the timeout for queued events, then stops.
  Expected<Unit> Close() override;
  std::string Describe() const override;

  DeliveryCounters counters() const { return queue_->counters(); }

 private:
  struct Endpoint;
  WebhookAction(const WebhookOptions& options, std::unique_ptr<Endpoint> endpoint);
  Expected<Unit> Post(const std::string& body);

  WebhookOptions options_;
  std::unique_ptr<Endpoint> endpoint_;
  std::unique_ptr<DeliveryQueue> queue_;
};

}  // namespace outpost::uplink
