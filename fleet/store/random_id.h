// Ids made by the server for the rows it creates: a prefix and 16 random hex digits
// ("r-9c1e04b2a7d35f60" for a rollout), from libsodium's CSPRNG so that several server
// processes never collide.
#pragma once

#include <string>

namespace outpost::fleet {

std::string RandomId(const std::string& prefix);

}  // namespace outpost::fleet
