#include "fleet/store/random_id.h"

#include <sodium.h>

#include "common/expected.h"

namespace outpost::fleet {

std::string RandomId(const std::string& prefix) {
  static const bool sodium_ready = sodium_init() >= 0;
  if (!sodium_ready) throw Error("cannot initialize libsodium");
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = prefix;
  for (unsigned char b : bytes) id += kHex[b >> 4], id += kHex[b & 15];
  return id;
}

}  // namespace outpost::fleet
