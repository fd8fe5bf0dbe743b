// Who is asking: the operators (the admin bearer token) or one enrolled device (its bearer
// credential). Secrets are never stored: enrollment tokens and device credentials are kept as
// their BLAKE2b-256 digest, and the admin token lives only in its file and in this process.
#pragma once

#include <httplib.h>

#include <array>
#include <optional>
#include <string>

#include "fleet/store/fleet_store.h"

namespace outpost::fleet {

// 32 random bytes as 64 hex digits: enrollment tokens and device credentials.
std::string RandomSecret();
// BLAKE2b-256 of the bytes, as 64 hex digits: how secrets are stored and looked up.
std::string SecretHash(const std::string& secret);

// The bearer token of the Authorization header, or "" when there is none.
std::string BearerToken(const httplib::Request& req);

class Authenticator {
 public:
  Authenticator(std::string admin_token, FleetStore& store);

  // Throws ApiError 401 without a valid credential, 403 for a device credential.
  void RequireAdmin(const httplib::Request& req) const;
  // The calling device; 401 unless the credential is a device's. The admin token is not a
  // device: device endpoints act on the caller itself and an operator has no "self".
  Device RequireDevice(const httplib::Request& req) const;
  // Downloads: the admin, or a device (returned).
  std::optional<Device> RequireAdminOrDevice(const httplib::Request& req) const;

 private:
  bool IsAdminToken(const std::string& token) const;
  std::optional<Device> FindDevice(const std::string& token) const;

  // Only the digest is kept; comparing digests of equal length takes the same time
  // whatever the presented token is.
  std::array<unsigned char, 32> admin_digest_{};
  FleetStore& store_;
};

}  // namespace outpost::fleet
