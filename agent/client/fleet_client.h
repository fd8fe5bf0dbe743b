// The device's side of the fleet API (docs/fleet-api.md, "Device endpoints" and "Downloads"):
// enroll, poll for the desired model, download packages and deltas resumably, post telemetry
// batches. Plain HTTP or HTTPS (the server certificate is verified against a CA file). The
// client is given its credential; it never reads or stores secrets itself.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/expected.h"

namespace httplib {
class Client;
}

namespace outpost::agent {

struct FleetClientOptions {
  std::string server_url;  // "http://host:port" or "https://host:port"
  std::string ca_file;     // https: PEM certificates the server's certificate must chain to
  std::string credential;  // the device credential (bearer token); empty before enrollment
  int connect_timeout_ms = 5000;
  int read_timeout_ms = 30000;
};

struct Enrollment {
  std::string device_id;
  std::string credential;
  std::string group;
  std::vector<std::string> tags;
};

struct DeltaOffer {
  std::string url;
  uint64_t size = 0;
  std::string digest;
  std::string base_version;
};

struct DesiredModel {
  std::string model;
  std::string version;
  std::string digest;  // BLAKE2b-256 of the package, 64 hex digits
  uint64_t size = 0;
  std::string url;
  std::string rollout_id;
  std::optional<DeltaOffer> delta;
  // A signed rollback order (package/rollback_order.h) when the target is a downgrade.
  std::optional<std::string> rollback_order;
};

// The server's answer to one stored telemetry batch.
struct TelemetryAck {
  int64_t inserted = 0;
  int64_t duplicates = 0;
};

// Called with the bytes of the part file so far while a download runs; returning false
// cuts the connection (the part file keeps what arrived).
using DownloadProgress = std::function<bool(uint64_t bytes_on_disk)>;

class FleetClient {
 public:
  // Checks the URL's shape; connects lazily.
  static Expected<std::unique_ptr<FleetClient>> Create(const FleetClientOptions& options);
  ~FleetClient();
  FleetClient(const FleetClient&) = delete;
  FleetClient& operator=(const FleetClient&) = delete;

  void set_credential(const std::string& credential) { options_.credential = credential; }
  const std::string& server_url() const { return options_.server_url; }

  // `public_key`: the device's X25519 public key (key file base64), so that the fleet can seal
  // packages to it; empty sends none.
  Expected<Enrollment> Enroll(const std::string& token, const std::string& name, const std::string& public_key = "");

  // Reports what runs (empty model and version: nothing yet) and the status object; answers
  // what the device should run, or nullopt when the server wants nothing changed.
  Expected<std::optional<DesiredModel>> Poll(const std::string& model, const std::string& version,
                                             const nlohmann::json& status = nlohmann::json::object());

  // Downloads `url` (a server path such as "/v1/artifacts/<digest>") into `part_path`,
  // appending from the bytes already there (`Range: bytes=N-`) and fsyncing what arrived,
  // so an interrupted call, or a process killed mid-way, resumes where it stopped. Complete
  // when the file holds exactly `expected_size` bytes whose BLAKE2b-256 is `expected_digest`.
  // Refused, with the part file removed: more bytes than expected, a digest mismatch, a
  // failed write of the part file (a full disk, a file size limit). An
  // interrupted transfer keeps the part file and says how far it got.
  Expected<Unit> Download(const std::string& url, const std::string& part_path, uint64_t expected_size,
                          const std::string& expected_digest, const DownloadProgress& progress = {});

  // `records` is a JSON array of telemetry records (each with its own `seq`).
  Expected<TelemetryAck> PostTelemetry(const nlohmann::json& records);

 private:
  explicit FleetClient(const FleetClientOptions& options);
  httplib::Client& Http();
  std::string Unreachable(int httplib_error) const;

  FleetClientOptions options_;
  std::unique_ptr<httplib::Client> http_;
};

// BLAKE2b-256 of a file as 64 hex digits (how the fleet names packages and deltas).
Expected<std::string> FileDigest(const std::string& path);

}  // namespace outpost::agent
