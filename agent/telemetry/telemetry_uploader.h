// Uploads the telemetry buffer to the fleet server in batches (POST /v1/device/telemetry,
// docs/fleet-api.md), oldest first, through a sender function so that the transport (the
// agent's HTTP client, or a test's) plugs in from outside.
//
// - A stored batch (the server answered 2xx) is acknowledged: its records leave the buffer.
//   Exactly-once delivery rests on the server: (device, seq) is stored once, so a batch whose
//   answer was lost is simply sent again and its records come back counted as duplicates.
// - A failure (no answer, 5xx, 401, 429: anything that may pass) keeps the records and backs
//   off exponentially: initial_backoff_ms doubling per consecutive failure up to
//   max_backoff_ms, each wait shortened by a random share of up to `jitter` so that devices
//   that lost the link together do not all come back in the same second.
// - A refusal (the sender returns an Error of kind ErrorKind::kRefused: the server answered 400
//   or 413, the batch's content will never be accepted) must not block the queue: the batch is
//   halved and sent again at once until the refused record is alone, and that one record is
//   discarded and counted in the buffer's dropped_records (which later records report). One
//   bad record thus costs itself and about log2(batch) extra requests, never its neighbours.
//
// Nothing sleeps here: Step() does at most one request when the injectable clock says an
// attempt is due, and next_attempt_ms() says when the caller should call it again.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>

#include "agent/client/fleet_client.h"  // TelemetryAck: the server's answer to a stored batch
#include "agent/telemetry/telemetry_buffer.h"
#include "common/expected.h"

namespace outpost::agent {

// Sends one request body ({"records":[...]}); an Error of kind kRefused for a 4xx refusal of
// the content, any other Error for a failure worth retrying.
using TelemetrySender = std::function<Expected<TelemetryAck>(const std::string& body)>;

struct TelemetryUploaderOptions {
  int64_t batch_records = 1000;  // the server's limit per request
  int64_t initial_backoff_ms = 2'000;
  int64_t max_backoff_ms = 300'000;  // five minutes
  double jitter = 0.5;               // each wait is in [(1 - jitter) * d, d]
  uint64_t seed = 0;                 // of the jitter; 0: from the device's random source
};

struct TelemetryUploadStats {
  int64_t batches_stored = 0;
  int64_t records_inserted = 0;
  int64_t records_duplicate = 0;
  int64_t records_refused = 0;
  int64_t failures = 0;  // failed attempts in total
  int64_t consecutive_failures = 0;
  std::string last_error;
};

// What one Step() did.
enum class UploadStep {
  kNotDue,   // backing off: nothing sent
  kIdle,     // the buffer is empty
  kStored,   // a batch was stored and acknowledged
  kRefused,  // a batch was refused (halved, or its one record discarded)
  kFailed,   // the send failed; backing off
};

class TelemetryUploader {
 public:
  TelemetryUploader(TelemetryBuffer& buffer, TelemetrySender sender,
                    std::function<int64_t()> clock_ms, TelemetryUploaderOptions options = {});

  // One attempt if one is due: at most one request. An Error only for the buffer itself
  // failing (its file); a send failure is kFailed.
  Expected<UploadStep> Step();

  // Steps until the buffer is empty, an attempt fails or one is not due; returns the last step.
  Expected<UploadStep> Drain();

  // When the next attempt is due (the clock's time; at once when not backing off).
  int64_t next_attempt_ms() const { return next_attempt_ms_; }
  // The wait chosen after the last failure (0 when the last attempt succeeded).
  int64_t last_backoff_ms() const { return last_backoff_ms_; }
  const TelemetryUploadStats& stats() const { return stats_; }

 private:
  void BackOff(const std::string& error);

  TelemetryBuffer& buffer_;
  TelemetrySender sender_;
  std::function<int64_t()> clock_ms_;
  TelemetryUploaderOptions options_;
  std::mt19937_64 random_;
  int64_t batch_limit_;
  int64_t next_attempt_ms_ = 0;
  int64_t last_backoff_ms_ = 0;
  TelemetryUploadStats stats_;
};

// {"records":[...]} from buffered records, without parsing them again.
std::string TelemetryBatchBody(const std::vector<BufferedRecord>& records);

}  // namespace outpost::agent
