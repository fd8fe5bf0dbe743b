// Batching, acknowledgement, refusal bisection and jittered exponential backoff.
#include "agent/telemetry/telemetry_uploader.h"

#include <algorithm>
#include <utility>

namespace outpost::agent {
namespace {

constexpr int64_t kServerBatchLimit = 1000;  // docs/fleet-api.md: at most 1000 records (413)

}  // namespace

std::string TelemetryBatchBody(const std::vector<BufferedRecord>& records) {
  std::string body = "{\"records\":[";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) body += ',';
    body += records[i].json;
  }
  body += "]}";
  return body;
}

TelemetryUploader::TelemetryUploader(TelemetryBuffer& buffer, TelemetrySender sender,
                                     std::function<int64_t()> clock_ms,
                                     TelemetryUploaderOptions options)
    : buffer_(buffer),
      sender_(std::move(sender)),
      clock_ms_(std::move(clock_ms)),
      options_(options),
      random_(options.seed != 0 ? options.seed : std::random_device{}()) {
  options_.batch_records = std::clamp<int64_t>(options_.batch_records, 1, kServerBatchLimit);
  options_.initial_backoff_ms = std::max<int64_t>(1, options_.initial_backoff_ms);
  options_.max_backoff_ms = std::max(options_.initial_backoff_ms, options_.max_backoff_ms);
  options_.jitter = std::clamp(options_.jitter, 0.0, 1.0);
  batch_limit_ = options_.batch_records;
}

void TelemetryUploader::BackOff(const std::string& error) {
  stats_.failures += 1;
  stats_.consecutive_failures += 1;
  stats_.last_error = error;
  // initial * 2^(failures - 1), capped; the shift is bounded so that it cannot overflow.
  const int doublings = static_cast<int>(std::min<int64_t>(stats_.consecutive_failures - 1, 40));
  const double full = std::min<double>(static_cast<double>(options_.max_backoff_ms),
                                       static_cast<double>(options_.initial_backoff_ms) *
                                           static_cast<double>(int64_t{1} << doublings));
  const double share = std::uniform_real_distribution<double>(0.0, options_.jitter)(random_);
  last_backoff_ms_ = std::max<int64_t>(1, static_cast<int64_t>(full * (1.0 - share)));
  next_attempt_ms_ = clock_ms_() + last_backoff_ms_;
}

Expected<UploadStep> TelemetryUploader::Step() {
  if (clock_ms_() < next_attempt_ms_) return UploadStep::kNotDue;
  Expected<std::vector<BufferedRecord>> batch = buffer_.Peek(batch_limit_);
  if (!batch) return batch.error();
  if (batch->empty()) return UploadStep::kIdle;
  const int64_t last_seq = batch->back().seq;
  Expected<TelemetryAck> ack = sender_(TelemetryBatchBody(*batch));
  if (ack) {
    // Stored (or stored before, its answer lost): the server has every record of the batch.
    Expected<Unit> done = buffer_.Acknowledge(last_seq);
    if (!done) return done.error();
    stats_.batches_stored += 1;
    stats_.records_inserted += ack->inserted;
    stats_.records_duplicate += ack->duplicates;
    stats_.consecutive_failures = 0;
    last_backoff_ms_ = 0;
    next_attempt_ms_ = 0;
    // A halved batch limit stays until the refused record is found (or for good when the
    // server's own limit is lower, 413).
    return UploadStep::kStored;
  }
  if (ack.error().kind() != ErrorKind::kRefused) {
    BackOff(ack.message());
    return UploadStep::kFailed;
  }
  stats_.last_error = ack.message();
  if (batch->size() > 1) {
    // Some record in it is refused: look for it in the first half, then the rest.
    batch_limit_ = static_cast<int64_t>(batch->size()) / 2;
    return UploadStep::kRefused;
  }
  Expected<int64_t> discarded = buffer_.Discard(last_seq);
  if (!discarded) return discarded.error();
  stats_.records_refused += *discarded;
  batch_limit_ = options_.batch_records;
  return UploadStep::kRefused;
}

Expected<UploadStep> TelemetryUploader::Drain() {
  while (true) {
    Expected<UploadStep> step = Step();
    if (!step || (*step != UploadStep::kStored && *step != UploadStep::kRefused)) return step;
  }
}

}  // namespace outpost::agent
