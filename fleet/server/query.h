// Strict reading of query strings: only the parameters an endpoint knows, integers within
// their range; anything else is a 400 before any state is read.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <initializer_list>

namespace outpost::fleet {

// 400 when the query holds a parameter not in `allowed`.
void CheckQuery(const httplib::Request& req, std::initializer_list<const char*> allowed);

// The parameter as an integer in [lo, hi], or `fallback` when absent; 400 otherwise.
int64_t QueryInt(const httplib::Request& req, const char* name, int64_t fallback, int64_t lo, int64_t hi);

}  // namespace outpost::fleet
