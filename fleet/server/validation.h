// The fixed shapes of every identifier and label the API accepts. Checked before anything is
// looked up or stored, so a malformed value is a 400 and never reaches the database or a path.
#pragma once

#include <string>
#include <vector>

namespace outpost::fleet {

bool IsDeviceId(const std::string& s);        // "d-" + 16 lowercase hex digits
// An id the server made: `prefix` ("r-" rollout, "a-" alert rule) + 16 lowercase hex digits.
bool IsPrefixedId(const std::string& s, const std::string& prefix);
bool IsDigest(const std::string& s);          // 64 lowercase hex digits (BLAKE2b-256)
bool IsModelName(const std::string& s);       // 1-64 of [A-Za-z0-9._-], starting alphanumeric
bool IsVersion(const std::string& s);         // semantic version, at most 64 characters
bool IsLabel(const std::string& s);           // group or tag: 1-64 of [A-Za-z0-9._:-]
// A device's own name: 1-128 bytes of valid UTF-8 without control characters. Any other
// character is allowed and stored verbatim (names come from hostnames and serial numbers).
bool IsDeviceName(const std::string& s);
// A device's X25519 public key as its key file's second line holds it: the 32 bytes in
// canonical padded base64 (44 characters; the one encoding of those bytes).
bool IsDevicePublicKey(const std::string& s);

inline constexpr size_t kMaxTags = 32;

}  // namespace outpost::fleet
