// An HTTP server for tests: cpp-httplib on 127.0.0.1 at a free port, serving on its own thread
// from Start() until Stop() or destruction. Register routes on server() before Start().
#pragma once

#include <httplib.h>

#include <string>
#include <thread>

namespace outpost::testing {

class LoopbackHttpServer {
 public:
  LoopbackHttpServer() = default;
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;
  ~LoopbackHttpServer() { Stop(); }

  httplib::Server& server() { return server_; }

  // Returns once the server accepts connections.
  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  void Stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace outpost::testing
