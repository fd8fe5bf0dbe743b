#include "package/rollback_order.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/json_nesting.h"
#include "package/codec.h"
#include "package/manifest.h"
#include "package/sodium_init.h"

namespace outpost::package {
namespace {

constexpr char kOrderError[] = "rollback order: ";

nlohmann::json OrderJson(const RollbackOrder& o) {
  return {{"model", o.model},   {"version", o.version},     {"counter", o.counter},
          {"device", o.device}, {"issued_ms", o.issued_ms}, {"expires_ms", o.expires_ms}};
}

// The bytes the signature covers: the format line keeps an order from ever verifying as any
// other signed object of the fleet.
std::string SignedBytes(const RollbackOrder& o) {
  return std::string(kRollbackOrderFormat) + "\n" + CanonicalRollbackOrder(o);
}

void CheckOrderContent(const RollbackOrder& o) {
  if (o.model.empty()) throw Error(std::string(kOrderError) + "'model' is empty");
  if (!IsSemanticVersion(o.version))
    throw Error(std::string(kOrderError) + "'version' is not a semantic version: \"" + o.version + "\"");
  if (o.counter == 0) throw Error(std::string(kOrderError) + "'counter' must be positive");
  if (o.device.empty()) throw Error(std::string(kOrderError) + "'device' is empty (\"*\" means every device)");
  if (o.expires_ms <= o.issued_ms) throw Error(std::string(kOrderError) + "'expires_ms' must be after 'issued_ms'");
}

const nlohmann::json& OrderField(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw Error(std::string(kOrderError) + "missing '" + name + "'");
  return *it;
}

std::string OrderString(const nlohmann::json& j, const char* name) {
  const nlohmann::json& v = OrderField(j, name);
  if (!v.is_string()) throw Error(std::string(kOrderError) + "'" + name + "' must be a string");
  return v.get<std::string>();
}

int64_t OrderInteger(const nlohmann::json& j, const char* name) {
  const nlohmann::json& v = OrderField(j, name);
  if (!v.is_number_integer()) throw Error(std::string(kOrderError) + "'" + name + "' must be a whole number");
  return v.get<int64_t>();
}

}  // namespace

std::string CanonicalRollbackOrder(const RollbackOrder& order) {
  return OrderJson(order).dump();  // nlohmann::json objects keep keys sorted: the dump is canonical
}

Expected<std::string> SignRollbackOrder(const RollbackOrder& order, const Key& signing_secret) {
  return Capture([&] {
    InitSodium();
    if (signing_secret.type() != KeyType::kSigningSecret)
      throw Error(std::string(kOrderError) + "signing needs an Ed25519 signing secret key");
    CheckOrderContent(order);
    const std::string bytes = SignedBytes(order);
    std::vector<uint8_t> sig(crypto_sign_BYTES);
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                         signing_secret.bytes().data());
    nlohmann::json out = {{"format", kRollbackOrderFormat},
                          {"order", OrderJson(order)},
                          {"signature", ToBase64(sig)},
                          {"signer", signing_secret.id()}};
    return out.dump();
  });
}

Expected<RollbackOrder> VerifyRollbackOrder(std::string_view text, const Key& signing_public,
                                            const RollbackOrderCheck& check) {
  return Capture([&] {
    InitSodium();
    if (signing_public.type() != KeyType::kSigningPublic)
      throw Error(std::string(kOrderError) + "verifying needs an Ed25519 signing public key");
    if (!JsonNestingWithin(text, 8)) throw Error(std::string(kOrderError) + "not valid JSON");
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) throw Error(std::string(kOrderError) + "not a JSON object");
    if (OrderString(j, "format") != kRollbackOrderFormat)
      throw Error(std::string(kOrderError) + "unknown format \"" + OrderString(j, "format") + "\"");
    const nlohmann::json& o = OrderField(j, "order");
    if (!o.is_object()) throw Error(std::string(kOrderError) + "'order' must be an object");
    if (o.size() != 6) throw Error(std::string(kOrderError) + "'order' must hold exactly model, version, counter, device, issued_ms, expires_ms");
    RollbackOrder order;
    order.model = OrderString(o, "model");
    order.version = OrderString(o, "version");
    const int64_t counter = OrderInteger(o, "counter");
    if (counter <= 0) throw Error(std::string(kOrderError) + "'counter' must be positive");
    order.counter = static_cast<uint64_t>(counter);
    order.device = OrderString(o, "device");
    order.issued_ms = OrderInteger(o, "issued_ms");
    order.expires_ms = OrderInteger(o, "expires_ms");
    CheckOrderContent(order);

    const std::string signer = OrderString(j, "signer");
    if (signer != signing_public.id())
      throw Error(std::string(kOrderError) + "signed by key " + signer + ", not by the fleet key " + signing_public.id());
    Expected<std::vector<uint8_t>> sig = FromBase64(OrderString(j, "signature"));
    if (!sig.ok() || sig->size() != crypto_sign_BYTES)
      throw Error(std::string(kOrderError) + "'signature' is not a base64 Ed25519 signature");
    const std::string bytes = SignedBytes(order);
    if (crypto_sign_verify_detached(sig->data(), reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                    signing_public.bytes().data()) != 0)
      throw Error(std::string(kOrderError) + "signature does not verify with the fleet key " + signing_public.id());

    if (order.model != check.model)
      throw Error(std::string(kOrderError) + "for model " + order.model + ", not " + check.model);
    if (order.device != "*" && order.device != check.device_id)
      throw Error(std::string(kOrderError) + "for device " + order.device + ", not " + check.device_id);
    if (check.now_ms >= order.expires_ms)
      throw Error(std::string(kOrderError) + "expired at " + std::to_string(order.expires_ms) + " ms (now " +
                  std::to_string(check.now_ms) + " ms)");
    return order;
  });
}

}  // namespace outpost::package
