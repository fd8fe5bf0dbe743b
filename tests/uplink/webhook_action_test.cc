// The webhook action against a real HTTP server on loopback.
#include "uplink/webhook_action.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/loopback_http_server.h"

namespace outpost::uplink {
namespace {

// An HTTP server on 127.0.0.1 answering POST /events with a status the test sets.
class Receiver {
 public:
  Receiver() {
    http_.server().Post("/events", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_;
      bodies_.push_back(req.body);
      content_types_.push_back(req.get_header_value("Content-Type"));
      tokens_.push_back(req.get_header_value("X-Token"));
      res.status = status_.load();
    });
    http_.Start();
  }
  ~Receiver() { http_.Stop(); }
  std::string url() const { return http_.url("/events"); }
  void set_status(int s) { status_.store(s); }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::vector<std::string> content_types() {
    std::lock_guard<std::mutex> lock(mu_);
    return content_types_;
  }
  std::vector<std::string> tokens() {
    std::lock_guard<std::mutex> lock(mu_);
    return tokens_;
  }

 private:
  outpost::testing::LoopbackHttpServer http_;
  std::atomic<int> status_{200};
  std::mutex mu_;
  int requests_ = 0;
  std::vector<std::string> bodies_, content_types_, tokens_;
};

std::unique_ptr<WebhookAction> MakeWebhook(const nlohmann::json& spec) {
  Expected<WebhookOptions> o = ParseWebhookOptions(spec);
  EXPECT_TRUE(o) << o.message();
  Expected<std::unique_ptr<WebhookAction>> a = WebhookAction::Create(*o);
  EXPECT_TRUE(a) << a.message();
  return std::move(*a);
}

TEST(WebhookAction, PostsEveryEventInOrder) {
  Receiver receiver;
  auto action = MakeWebhook({{"type", "webhook"},
                             {"url", receiver.url()},
                             {"headers", {{"X-Token", "abc"}}}});
  std::vector<std::string> sent;
  size_t bytes = 0;
  for (int i = 0; i < 20; ++i) {
    sent.push_back(R"({"frame": )" + std::to_string(i) + "}");
    bytes += sent.back().size();
    ASSERT_TRUE(action->Emit(sent.back()));
  }
  Expected<Unit> closed = action->Close();
  EXPECT_TRUE(closed) << closed.message();
  EXPECT_EQ(receiver.bodies(), sent);
  for (const std::string& ct : receiver.content_types()) EXPECT_EQ(ct, "application/json");
  for (const std::string& t : receiver.tokens()) EXPECT_EQ(t, "abc");
  EXPECT_EQ(action->bytes_sent(), bytes);
  EXPECT_EQ(action->counters().delivered, 20u);
}

TEST(WebhookAction, ServerErrorsAreRetriedThenCounted) {
  Receiver receiver;
  receiver.set_status(503);
  auto action = MakeWebhook({{"url", receiver.url()}, {"retries", 2}});
  ASSERT_TRUE(action->Emit(R"({"x": 1})"));
  Expected<Unit> closed = action->Close();
  ASSERT_FALSE(closed);
  EXPECT_NE(closed.message().find("HTTP 503"), std::string::npos) << closed.message();
  EXPECT_EQ(receiver.requests(), 3);  // the first attempt and two retries
  EXPECT_EQ(action->counters().failed, 1u);
  EXPECT_EQ(action->bytes_sent(), 0u);
}

TEST(WebhookAction, ClientErrorsAreNotRetried) {
  Receiver receiver;
  receiver.set_status(400);
  auto action = MakeWebhook({{"url", receiver.url()}, {"retries", 3}});
  ASSERT_TRUE(action->Emit("{}"));
  EXPECT_FALSE(action->Close());
  EXPECT_EQ(receiver.requests(), 1);
}

TEST(WebhookAction, UnreachableReceiverFailsCleanly) {
  int closed_port = 0;
  {
    Receiver gone;  // take a free port, then close it
    closed_port = std::stoi(gone.url().substr(std::string("http://127.0.0.1:").size()));
  }
  auto action = MakeWebhook({{"url", "http://127.0.0.1:" + std::to_string(closed_port) + "/e"},
                             {"retries", 0},
                             {"timeout_ms", 500}});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(action->Emit("{}"));
  Expected<Unit> closed = action->Close();
  ASSERT_FALSE(closed);
  EXPECT_NE(closed.message().find("cannot reach"), std::string::npos) << closed.message();
  const DeliveryCounters c = action->counters();
  EXPECT_EQ(c.delivered, 0u);
  EXPECT_EQ(c.failed + c.dropped, 3u);
}

TEST(WebhookAction, OptionsAreChecked) {
  EXPECT_FALSE(ParseWebhookOptions({{"type", "webhook"}}));  // no url
  EXPECT_FALSE(ParseWebhookOptions({{"url", "ftp://host/x"}}));
  EXPECT_FALSE(ParseWebhookOptions({{"url", "http://"}}));
  EXPECT_FALSE(ParseWebhookOptions({{"url", "http://h/x"}, {"retries", -1}}));
  Expected<WebhookOptions> typo = ParseWebhookOptions({{"url", "http://h/x"}, {"timeout", 5}});
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.message().find("unknown option 'timeout'"), std::string::npos);
  Expected<WebhookOptions> wrong_type = ParseWebhookOptions({{"url", 5}});
  ASSERT_FALSE(wrong_type);
  EXPECT_NE(wrong_type.message().find("'url'"), std::string::npos);
}

}  // namespace
}  // namespace outpost::uplink
