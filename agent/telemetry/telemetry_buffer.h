// The device's store-and-forward telemetry buffer: a bounded SQLite database (WAL journal)
// that keeps telemetry records until the fleet server has acknowledged them, through link
// outages of hours and through restarts and power cuts.
//
// Every appended record gets the device's next sequence number (`seq`), which is persisted and
// never reused, also after the buffer was emptied or the process restarted: the server stores
// each (device, seq) once, so a batch sent again after a lost answer inserts nothing twice.
// The buffer is bounded by a record count and by the bytes of the records' JSON: when an
// append would exceed a bound the oldest records are dropped first, and the drops are counted
// in a persisted total that every later record carries as `dropped_records` (a total, so that
// the count still arrives when the record first carrying it is itself dropped).
//
// One TelemetryBuffer owns its file; its methods may be called from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/expected.h"

struct sqlite3;

namespace outpost::agent {

struct TelemetryBufferOptions {
  int64_t max_records = 100'000;   // about eleven days at one record per 10 s
  int64_t max_bytes = 64ll << 20;  // of record JSON; the file is somewhat larger
  // A hard cap on the database file (SQLite's max_page_count), 0 for none: an append that
  // would grow the file past it fails exactly as on a full disk. A disk budget for the buffer
  // beside the bounds above, which drop old records instead.
  int64_t max_file_bytes = 0;
};

struct BufferedRecord {
  int64_t seq = 0;
  std::string json;  // the record as it will be sent, `seq` (and `dropped_records`) included
};

struct TelemetryBufferStats {
  int64_t records = 0;          // held now
  int64_t bytes = 0;            // of their JSON
  int64_t last_seq = 0;         // the last seq assigned (0: none yet)
  int64_t dropped_records = 0;  // total never to be delivered: dropped when full, or refused
};

class TelemetryBuffer {
 public:
  // Opens (creating when missing) the buffer at `path`. A file that is not a database, is
  // corrupt or cannot be written is refused with one message naming it.
  static Expected<std::unique_ptr<TelemetryBuffer>> Open(const std::string& path,
                                                         TelemetryBufferOptions options = {});
  ~TelemetryBuffer();
  TelemetryBuffer(const TelemetryBuffer&) = delete;
  TelemetryBuffer& operator=(const TelemetryBuffer&) = delete;

  // Stores `record` (a JSON object without `seq`) under the next seq, dropping the oldest
  // records first when a bound would be exceeded; returns the seq. The record gets `seq` and,
  // once any record was dropped, `dropped_records`. A record larger than max_bytes on its own
  // is refused. A full disk is an error that leaves every stored record and the seq as they were.
  Expected<int64_t> Append(const nlohmann::json& record);

  // The oldest `n` records, oldest first (fewer when fewer are held).
  Expected<std::vector<BufferedRecord>> Peek(int64_t n);

  // The server stored every record up to `seq`: they are deleted.
  Expected<Unit> Acknowledge(int64_t seq);

  // The server refused the records up to `seq` for good: they are deleted and counted as dropped.
  Expected<int64_t> Discard(int64_t seq);

  TelemetryBufferStats Stats();

 private:
  TelemetryBuffer(sqlite3* db, std::string path, TelemetryBufferOptions options);
  Expected<int64_t> DeleteUpTo(int64_t seq, bool count_as_dropped);

  sqlite3* db_;
  std::string path_;
  TelemetryBufferOptions options_;
  std::mutex mutex_;
  TelemetryBufferStats stats_;  // mirrors the database; updated only after a commit
};

}  // namespace outpost::agent
