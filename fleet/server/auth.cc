#include "fleet/server/auth.h"

#include <sodium.h>

#include "fleet/server/api_error.h"

namespace outpost::fleet {
namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();
  return out;
}

std::array<unsigned char, 32> Digest(const std::string& s) {
  std::array<unsigned char, 32> d{};
  crypto_generichash(d.data(), d.size(), reinterpret_cast<const unsigned char*>(s.data()), s.size(), nullptr, 0);
  return d;
}

}  // namespace

std::string RandomSecret() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof(bytes));
  return Hex(bytes, sizeof(bytes));
}

std::string SecretHash(const std::string& secret) {
  const std::array<unsigned char, 32> d = Digest(secret);
  return Hex(d.data(), d.size());
}

std::string BearerToken(const httplib::Request& req) {
  const std::string value = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (value.size() <= prefix.size() || value.compare(0, prefix.size(), prefix) != 0) return "";
  return value.substr(prefix.size());
}

Authenticator::Authenticator(std::string admin_token, FleetStore& store)
    : admin_digest_(Digest(admin_token)), store_(store) {
  sodium_memzero(admin_token.data(), admin_token.size());
}

bool Authenticator::IsAdminToken(const std::string& token) const {
  const std::array<unsigned char, 32> d = Digest(token);
  return sodium_memcmp(d.data(), admin_digest_.data(), d.size()) == 0;
}

std::optional<Device> Authenticator::FindDevice(const std::string& token) const {
  // Credentials are 64 hex digits; anything else cannot be one and is not looked up.
  if (token.size() != 64) return std::nullopt;
  return StoreValue(store_.FindDeviceByCredential(SecretHash(token)), "checking a credential");
}

void Authenticator::RequireAdmin(const httplib::Request& req) const {
  const std::string token = BearerToken(req);
  if (token.empty()) throw ApiError(401, "missing bearer token");
  if (IsAdminToken(token)) return;
  if (FindDevice(token)) throw ApiError(403, "a device credential cannot use the admin API");
  throw ApiError(401, "invalid bearer token");
}

Device Authenticator::RequireDevice(const httplib::Request& req) const {
  const std::string token = BearerToken(req);
  if (token.empty()) throw ApiError(401, "missing bearer token");
  if (std::optional<Device> d = FindDevice(token)) return *d;
  if (IsAdminToken(token)) throw ApiError(403, "the admin token is not a device credential");
  throw ApiError(401, "invalid device credential");
}

std::optional<Device> Authenticator::RequireAdminOrDevice(const httplib::Request& req) const {
  const std::string token = BearerToken(req);
  if (token.empty()) throw ApiError(401, "missing bearer token");
  if (IsAdminToken(token)) return std::nullopt;
  if (std::optional<Device> d = FindDevice(token)) return d;
  throw ApiError(401, "invalid bearer token");
}

}  // namespace outpost::fleet
