#include "agent/client/fleet_client.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <httplib.h>

#include <cstring>

#include "common/json_nesting.h"
#include "package/codec.h"

namespace outpost::agent {
namespace {

constexpr char kFleetError[] = "fleet: ";

std::string ClientErrorText(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection: return "connection refused";
    case httplib::Error::ConnectionTimeout: return "connection timed out";
    case httplib::Error::Read: return "connection lost while reading the answer";
    case httplib::Error::Write: return "connection lost while sending the request";
    case httplib::Error::SSLConnection: return "TLS handshake failed";
    case httplib::Error::SSLServerVerification: return "the server certificate does not verify with the CA file";
    case httplib::Error::SSLLoadingCerts: return "cannot load the CA file";
    case httplib::Error::Canceled: return "transfer cut short";
    default: return httplib::to_string(e);
  }
}

// "fleet: /v1/device/poll answered 401: unknown device credential"
Error ServerRefusal(const std::string& path, int status, const std::string& body) {
  std::string reason;
  if (JsonNestingWithin(body, 8)) {
    const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) reason = j["error"].get<std::string>();
  }
  if (reason.empty()) reason = body.substr(0, 200);
  return Error(std::string(kFleetError) + path + " answered " + std::to_string(status) + (reason.empty() ? "" : ": " + reason));
}

nlohmann::json ParseAnswer(const std::string& path, const std::string& body) {
  if (!JsonNestingWithin(body, 64)) throw Error(std::string(kFleetError) + path + " answered malformed JSON");
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) throw Error(std::string(kFleetError) + path + " answered malformed JSON");
  return j;
}

template <typename T>
T Get(const nlohmann::json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) throw Error(std::string(kFleetError) + path + " answered without '" + key + "'");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string(kFleetError) + path + " answered a malformed '" + key + "'");
  }
}

bool WriteAllBytes(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string WriteFailure(const std::string& path, int err) {
  if (err == ENOSPC || err == EDQUOT) return "no space left on the device while writing " + path;
  return "cannot write " + path + ": " + std::strerror(err);
}

}  // namespace

Expected<std::string> FileDigest(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(path + ": cannot open: " + std::strerror(errno));
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  std::vector<uint8_t> buf(1 << 16);
  while (true) {
    const ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      ::close(fd);
      return Error(path + ": cannot read: " + std::strerror(err));
    }
    if (r == 0) break;
    crypto_generichash_update(&st, buf.data(), static_cast<size_t>(r));
  }
  ::close(fd);
  std::vector<uint8_t> hash(32);
  crypto_generichash_final(&st, hash.data(), hash.size());
  return package::ToHex(hash);
}

FleetClient::FleetClient(const FleetClientOptions& options) : options_(options) {}
FleetClient::~FleetClient() = default;

Expected<std::unique_ptr<FleetClient>> FleetClient::Create(const FleetClientOptions& options) {
  const std::string& url = options.server_url;
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0)
    return Error(std::string(kFleetError) + "the server URL must start with http:// or https://, got \"" + url + "\"");
  const std::string rest = url.substr(https ? 8 : 7);
  if (rest.empty() || rest.find('/') != std::string::npos)
    return Error(std::string(kFleetError) + "the server URL must be scheme://host[:port] without a path, got \"" + url + "\"");
  if (https && options.ca_file.empty())
    return Error(std::string(kFleetError) + "an https server URL needs a CA file to verify the server certificate");
  if (sodium_init() < 0) return Error(std::string(kFleetError) + "cannot initialize libsodium");
  return std::unique_ptr<FleetClient>(new FleetClient(options));
}

httplib::Client& FleetClient::Http() {
  if (!http_) {
    http_ = std::make_unique<httplib::Client>(options_.server_url);
    http_->set_connection_timeout(options_.connect_timeout_ms / 1000, (options_.connect_timeout_ms % 1000) * 1000);
    http_->set_read_timeout(options_.read_timeout_ms / 1000, (options_.read_timeout_ms % 1000) * 1000);
    http_->set_write_timeout(options_.read_timeout_ms / 1000, (options_.read_timeout_ms % 1000) * 1000);
    if (options_.server_url.rfind("https://", 0) == 0) {
      http_->set_ca_cert_path(options_.ca_file.c_str());
      http_->enable_server_certificate_verification(true);
    }
  }
  return *http_;
}

std::string FleetClient::Unreachable(int httplib_error) const {
  return std::string(kFleetError) + "cannot reach " + options_.server_url + ": " +
         ClientErrorText(static_cast<httplib::Error>(httplib_error));
}

namespace {

httplib::Headers Bearer(const std::string& credential) {
  if (credential.empty()) return {};
  return {{"Authorization", "Bearer " + credential}};
}

}  // namespace

Expected<Enrollment> FleetClient::Enroll(const std::string& token, const std::string& name,
                                         const std::string& public_key) {
  return Capture([&] {
    const std::string path = "/v1/enroll";
    nlohmann::json body = {{"token", token}, {"name", name}};
    if (!public_key.empty()) body["public_key"] = public_key;
    auto res = Http().Post(path, body.dump(), "application/json");
    if (!res) throw Error(Unreachable(static_cast<int>(res.error())));
    if (res->status != 201) throw ServerRefusal(path, res->status, res->body);
    const nlohmann::json j = ParseAnswer(path, res->body);
    Enrollment e;
    e.device_id = Get<std::string>(j, "device_id", path);
    e.credential = Get<std::string>(j, "credential", path);
    e.group = j.value("group", "");
    if (j.contains("tags") && j["tags"].is_array()) {
      for (const auto& t : j["tags"])
        if (t.is_string()) e.tags.push_back(t.get<std::string>());
    }
    return e;
  });
}

Expected<std::optional<DesiredModel>> FleetClient::Poll(const std::string& model, const std::string& version,
                                                        const nlohmann::json& status) {
  return Capture([&]() -> std::optional<DesiredModel> {
    const std::string path = "/v1/device/poll";
    nlohmann::json body = {{"status", status.is_object() ? status : nlohmann::json::object()}};
    if (!model.empty() && !version.empty()) {
      body["model"] = model;
      body["version"] = version;
    }
    auto res = Http().Post(path, Bearer(options_.credential), body.dump(), "application/json");
    if (!res) throw Error(Unreachable(static_cast<int>(res.error())));
    if (res->status != 200) throw ServerRefusal(path, res->status, res->body);
    const nlohmann::json j = ParseAnswer(path, res->body);
    auto it = j.find("desired");
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_object()) throw Error(std::string(kFleetError) + path + " answered a malformed 'desired'");
    const nlohmann::json& d = *it;
    DesiredModel m;
    m.model = Get<std::string>(d, "model", path);
    m.version = Get<std::string>(d, "version", path);
    m.digest = Get<std::string>(d, "digest", path);
    m.size = Get<uint64_t>(d, "size", path);
    m.url = Get<std::string>(d, "url", path);
    m.rollout_id = d.value("rollout_id", "");
    // The server sends the order as a JSON object; its signature covers the order's canonical
    // form, so the re-serialized text verifies the same.
    if (d.contains("rollback_order") && d["rollback_order"].is_object())
      m.rollback_order = d["rollback_order"].dump();
    if (d.contains("delta") && d["delta"].is_object()) {
      const nlohmann::json& x = d["delta"];
      DeltaOffer o;
      o.url = Get<std::string>(x, "url", path);
      o.size = Get<uint64_t>(x, "size", path);
      o.digest = Get<std::string>(x, "digest", path);
      o.base_version = Get<std::string>(x, "base_version", path);
      m.delta = o;
    }
    return m;
  });
}

Expected<Unit> FleetClient::Download(const std::string& url, const std::string& part_path, uint64_t expected_size,
                                     const std::string& expected_digest, const DownloadProgress& progress) {
  return Capture([&] {
    const int fd = ::open(part_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) throw Error(std::string(kFleetError) + WriteFailure(part_path, errno));
    struct stat st {};
    ::fstat(fd, &st);
    uint64_t have = static_cast<uint64_t>(st.st_size);
    auto refuse = [&](const std::string& why) {
      ::close(fd);
      ::unlink(part_path.c_str());
      return Error(std::string(kFleetError) + "download of " + url + " refused: " + why + " (the partial file is removed)",
                   ErrorKind::kRefused);
    };
    if (have > expected_size)
      throw refuse("the file grew past the expected " + std::to_string(expected_size) + " bytes");

    std::string failure;   // a local write failure, which ends the transfer
    std::string error_body;
    int status = 0;
    bool oversized = false;
    if (have < expected_size) {
      httplib::Headers headers = Bearer(options_.credential);
      if (have > 0) headers.emplace("Range", "bytes=" + std::to_string(have) + "-");
      auto res = Http().Get(
          url, headers,
          [&](const httplib::Response& r) {
            status = r.status;
            // The server ignored the range: start over from byte 0.
            if (status == 200 && have > 0) {
              if (::ftruncate(fd, 0) != 0) {
                failure = WriteFailure(part_path, errno);
                return false;
              }
              have = 0;
            }
            return true;
          },
          [&](const char* data, size_t n) {
            if (status != 200 && status != 206) {
              if (error_body.size() < 4096) error_body.append(data, n);
              return true;
            }
            if (have + n > expected_size) {
              oversized = true;
              return false;
            }
            if (!WriteAllBytes(fd, data, n)) {
              failure = WriteFailure(part_path, errno);
              return false;
            }
            have += n;
            return !progress || progress(have);
          });
      // What arrived is kept for the next call, whatever happened to the connection.
      ::fsync(fd);
      if (oversized) throw refuse("the server sent more than the expected " + std::to_string(expected_size) + " bytes");
      if (!failure.empty()) {
        // A full disk: what arrived goes, so that the space is given back at once and the next
        // attempt (after space is freed) starts clean instead of failing on the same bytes.
        ::close(fd);
        ::unlink(part_path.c_str());
        throw Error(std::string(kFleetError) + "download of " + url + ": " + failure + " (the partial file is removed)",
                    ErrorKind::kRefused);
      }
      if (status != 0 && status != 200 && status != 206) {
        ::close(fd);
        // 416: what we hold does not fit the server's file; start over next time.
        if (status == 416) ::unlink(part_path.c_str());
        throw ServerRefusal(url, status, error_body);
      }
      if (!res && have < expected_size) {
        ::close(fd);
        throw Error(Unreachable(static_cast<int>(res.error())) + " (download of " + url + " stopped at " +
                    std::to_string(have) + " of " + std::to_string(expected_size) + " bytes; it resumes from there)");
      }
    }
    if (::fsync(fd) != 0) {
      const int err = errno;
      ::close(fd);
      throw Error(std::string(kFleetError) + WriteFailure(part_path, err), ErrorKind::kRefused);
    }
    ::close(fd);
    if (have < expected_size)
      throw Error(std::string(kFleetError) + "download of " + url + " ended at " + std::to_string(have) + " of " +
                  std::to_string(expected_size) + " bytes (truncated; it resumes from there)");
    Expected<std::string> digest = FileDigest(part_path);
    if (!digest.ok()) throw Error(std::string(kFleetError) + digest.message());
    if (*digest != expected_digest) {
      ::unlink(part_path.c_str());
      throw Error(std::string(kFleetError) + "download of " + url + " refused: BLAKE2b digest " + *digest +
                      " is not the expected " + expected_digest + " (the file is removed)",
                  ErrorKind::kRefused);
    }
    return Unit{};
  });
}

Expected<TelemetryAck> FleetClient::PostTelemetry(const nlohmann::json& records) {
  return Capture([&] {
    const std::string path = "/v1/device/telemetry";
    if (!records.is_array()) throw Error(std::string(kFleetError) + "telemetry records must be a JSON array");
    auto res = Http().Post(path, Bearer(options_.credential), nlohmann::json{{"records", records}}.dump(),
                           "application/json");
    if (!res) throw Error(Unreachable(static_cast<int>(res.error())));
    // 400 and 413 refuse the batch's content: sent again it can never pass (the uploader then
    // isolates the bad record); anything else may pass later.
    if (res->status == 400 || res->status == 413)
      throw Error(ServerRefusal(path, res->status, res->body).what(), ErrorKind::kRefused);
    if (res->status != 200) throw ServerRefusal(path, res->status, res->body);
    const nlohmann::json j = ParseAnswer(path, res->body);
    return TelemetryAck{Get<int64_t>(j, "inserted", path), Get<int64_t>(j, "duplicates", path)};
  });
}

}  // namespace outpost::agent
