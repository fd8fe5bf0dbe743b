// A signed rollback order: the fleet's permission for a device (or every device, "*") to
// install one named version of a model whose counter is not above the highest counter the
// device has committed. Without one, anti-rollback refuses such a package (a replayed old
// version is indistinguishable from a deliberate downgrade; only the signing key can tell).
//
// Wire format, one JSON object:
//   {"format":"outpost-rollback-order/1","order":{...},"signature":"<base64>","signer":"<key id>"}
// where "order" holds model, version, counter, device, issued_ms and expires_ms, and the
// Ed25519 signature covers "outpost-rollback-order/1\n" followed by the order's canonical JSON
// (keys sorted, no whitespace, as package/manifest.cc writes manifests).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "package/keys.h"

namespace outpost::package {

struct RollbackOrder {
  std::string model;
  std::string version;   // semantic version
  uint64_t counter = 0;  // the manifest counter of that version
  std::string device;    // a device id, or "*" for every device of the fleet
  int64_t issued_ms = 0;
  int64_t expires_ms = 0;
};

inline constexpr char kRollbackOrderFormat[] = "outpost-rollback-order/1";

// The signed bytes of the order's content.
std::string CanonicalRollbackOrder(const RollbackOrder& order);

// Signs with an Ed25519 secret key; answers the wire format above. Refuses an order with a
// missing field, a version that is not semantic or an expiry not after its issue time.
Expected<std::string> SignRollbackOrder(const RollbackOrder& order, const Key& signing_secret);

// What the device checks before letting an order lift anti-rollback.
struct RollbackOrderCheck {
  std::string model;      // the device's model
  std::string device_id;  // this device
  int64_t now_ms = 0;
};

// Parses and verifies an order; each refusal is one message starting "rollback order: ":
// malformed, signed by another key, signature does not verify, expired, for another device,
// for another model.
Expected<RollbackOrder> VerifyRollbackOrder(std::string_view text, const Key& signing_public,
                                            const RollbackOrderCheck& check);

}  // namespace outpost::package
