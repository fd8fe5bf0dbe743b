// The MQTT action against a real mosquitto broker that the test starts on loopback.
#include "uplink/mqtt_action.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/free_port.h"

namespace outpost::uplink {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

using outpost::testing::FreeLoopbackPort;

bool CanConnect(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(s);
  return ok;
}

template <typename F>
bool WaitFor(F done, milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

// A mosquitto process listening on 127.0.0.1:port, killed when destroyed.
class Broker {
 public:
  Broker(int port, bool anonymous) : port_(port) {
    dir_ = fs::temp_directory_path() / ("outpost_mqtt_" + std::to_string(getpid()) + "_" +
                                        std::to_string(port));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "mosquitto.conf")
        << "listener " << port << " 127.0.0.1\n"
        << "allow_anonymous " << (anonymous ? "true" : "false") << "\n"
        << "persistence false\n";
    pid_ = fork();
    if (pid_ == 0) {
      const std::string conf = (dir_ / "mosquitto.conf").string();
      freopen("/dev/null", "w", stdout);
      freopen("/dev/null", "w", stderr);
      execl(OUTPOST_MOSQUITTO, "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    ready_ = WaitFor([&] { return CanConnect(port_); }, milliseconds(10000));
  }
  ~Broker() {
    Stop();
    fs::remove_all(dir_);
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool ready() const { return ready_; }

 private:
  int port_;
  fs::path dir_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

// A subscriber collecting every payload on a topic.
class Subscriber {
 public:
  Subscriber(int port, const std::string& topic) : topic_(topic) {
    mosquitto_lib_init();
    client_ = mosquitto_new(nullptr, true, this);
    mosquitto_connect_callback_set(client_, [](mosquitto* m, void* self, int rc) {
      auto* s = static_cast<Subscriber*>(self);
      if (rc == 0) mosquitto_subscribe(m, nullptr, s->topic_.c_str(), 1);
    });
    mosquitto_subscribe_callback_set(
        client_, [](mosquitto*, void* self, int, int, const int*) {
          static_cast<Subscriber*>(self)->subscribed_.store(true);
        });
    mosquitto_message_callback_set(
        client_, [](mosquitto*, void* self, const mosquitto_message* msg) {
          auto* s = static_cast<Subscriber*>(self);
          std::lock_guard<std::mutex> lock(s->mu_);
          s->payloads_.emplace_back(static_cast<const char*>(msg->payload),
                                    static_cast<size_t>(msg->payloadlen));
        });
    mosquitto_connect(client_, "127.0.0.1", port, 30);
    mosquitto_loop_start(client_);
  }
  ~Subscriber() {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, true);
    mosquitto_destroy(client_);
  }
  bool WaitSubscribed() { return WaitFor([&] { return subscribed_.load(); }, milliseconds(5000)); }
  std::vector<std::string> payloads() {
    std::lock_guard<std::mutex> lock(mu_);
    return payloads_;
  }

 private:
  std::string topic_;
  mosquitto* client_ = nullptr;
  std::atomic<bool> subscribed_{false};
  std::mutex mu_;
  std::vector<std::string> payloads_;
};

std::unique_ptr<MqttAction> MakeMqtt(int port, const std::string& topic, int wait_ms = 3000) {
  Expected<MqttOptions> o = ParseMqttOptions(
      {{"type", "mqtt"}, {"port", port}, {"topic", topic}, {"connect_wait_ms", wait_ms}}, "");
  EXPECT_TRUE(o) << o.message();
  Expected<std::unique_ptr<MqttAction>> a = MqttAction::Create(*o);
  EXPECT_TRUE(a) << a.message();
  return a ? std::move(*a) : nullptr;
}

TEST(MqttAction, PublishesEveryEventToTheBroker) {
  const int port = FreeLoopbackPort();
  Broker broker(port, /*anonymous=*/true);
  ASSERT_TRUE(broker.ready()) << "mosquitto did not start on port " << port;
  Subscriber sub(port, "outpost/test/events");
  ASSERT_TRUE(sub.WaitSubscribed());

  auto action = MakeMqtt(port, "outpost/test/events");
  ASSERT_TRUE(action);
  ASSERT_TRUE(action->connected());
  std::vector<std::string> sent;
  size_t bytes = 0;
  for (int i = 0; i < 25; ++i) {
    sent.push_back(R"({"frame": )" + std::to_string(i) + R"(, "label": "ok"})");
    bytes += sent.back().size();
    Expected<Unit> e = action->Emit(sent.back());
    ASSERT_TRUE(e) << e.message();
  }
  Expected<Unit> closed = action->Close();
  EXPECT_TRUE(closed) << closed.message();
  EXPECT_EQ(action->published(), 25u);
  EXPECT_EQ(action->bytes_sent(), bytes);
  ASSERT_TRUE(WaitFor([&] { return sub.payloads().size() == sent.size(); }, milliseconds(5000)));
  EXPECT_EQ(sub.payloads(), sent);  // QoS 1 on one connection keeps the order
}

TEST(MqttAction, NoBrokerMeansRefusedEventsNotACrash) {
  const int port = FreeLoopbackPort();
  auto action = MakeMqtt(port, "outpost/x", /*wait_ms=*/200);
  ASSERT_TRUE(action);  // the link may come up later: starting is not an error
  EXPECT_FALSE(action->connected());
  Expected<Unit> e = action->Emit("{}");
  ASSERT_FALSE(e);
  EXPECT_NE(e.message().find("not connected"), std::string::npos) << e.message();
  EXPECT_EQ(action->refused(), 1u);
  EXPECT_TRUE(action->Close());
}

TEST(MqttAction, ReconnectsWhenTheBrokerComesBack) {
  const int port = FreeLoopbackPort();
  auto broker = std::make_unique<Broker>(port, true);
  ASSERT_TRUE(broker->ready());
  auto action = MakeMqtt(port, "outpost/r");
  ASSERT_TRUE(action && action->connected());
  broker.reset();  // the broker dies
  ASSERT_TRUE(WaitFor([&] { return !action->connected(); }, milliseconds(5000)));
  EXPECT_FALSE(action->Emit("{\"lost\": true}"));

  broker = std::make_unique<Broker>(port, true);
  ASSERT_TRUE(broker->ready());
  Subscriber sub(port, "outpost/r");
  ASSERT_TRUE(sub.WaitSubscribed());
  // libmosquitto retries after 1 s, then 2 s, 4 s ...
  ASSERT_TRUE(WaitFor([&] { return action->connected(); }, milliseconds(10000)));
  ASSERT_TRUE(action->Emit("{\"back\": true}"));
  EXPECT_TRUE(action->Close());
  ASSERT_TRUE(WaitFor([&] { return sub.payloads().size() == 1; }, milliseconds(5000)));
  EXPECT_EQ(sub.payloads()[0], "{\"back\": true}");
}

TEST(MqttAction, RefusedConnectionIsAClearError) {
  const int port = FreeLoopbackPort();
  Broker broker(port, /*anonymous=*/false);  // no user may connect
  ASSERT_TRUE(broker.ready());
  Expected<MqttOptions> o = ParseMqttOptions({{"port", port}, {"topic", "t"}}, "");
  ASSERT_TRUE(o);
  Expected<std::unique_ptr<MqttAction>> a = MqttAction::Create(*o);
  ASSERT_FALSE(a);
  EXPECT_NE(a.message().find("refused the connection"), std::string::npos) << a.message();
}

TEST(MqttAction, OptionsAreChecked) {
  EXPECT_FALSE(ParseMqttOptions({{"type", "mqtt"}}, ""));  // no topic
  EXPECT_FALSE(ParseMqttOptions({{"topic", "a/#"}}, ""));
  EXPECT_FALSE(ParseMqttOptions({{"topic", "a"}, {"qos", 3}}, ""));
  EXPECT_FALSE(ParseMqttOptions({{"topic", "a"}, {"port", 0}}, ""));
  Expected<MqttOptions> typo = ParseMqttOptions({{"topic", "a"}, {"hots", "x"}}, "");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.message().find("unknown option 'hots'"), std::string::npos);
  Expected<MqttOptions> ca = ParseMqttOptions({{"topic", "a"}, {"cafile", "ca.pem"}}, "/etc/x");
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->cafile, "/etc/x/ca.pem");
}

}  // namespace
}  // namespace outpost::uplink
