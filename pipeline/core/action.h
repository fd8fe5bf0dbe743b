// Where results go: JSON lines on stdout or a file, a command, an HTTP webhook, MQTT.
//
// The runner hands every action one JSON document per event (a frame's result, or a change
// the uplink policy decided to report). Actions count the bytes they deliver, so the report
// can set bytes sent against bytes captured.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace outpost::pipeline {

class Action {
 public:
  virtual ~Action() = default;

  // Delivers one event. A failure (broker down, webhook 500, disk full) is an Error; the
  // runner counts it and goes on: a failing action never stops inference.
  virtual Expected<Unit> Emit(std::string_view json) = 0;

  // Called once at the end of the run: flush buffers, wait for in-flight deliveries.
  virtual Expected<Unit> Close() { return Unit{}; }

  virtual std::string Describe() const = 0;

  uint64_t bytes_sent() const { return bytes_sent_; }

 protected:
  uint64_t bytes_sent_ = 0;
};

}  // namespace outpost::pipeline
