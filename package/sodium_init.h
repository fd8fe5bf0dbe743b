// libsodium must be initialized once before use; every entry point of the package library
// calls this first.
#pragma once

namespace outpost::package {
void InitSodium();
}
