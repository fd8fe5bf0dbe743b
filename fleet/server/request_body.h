// Reading request bodies within their size limit: a larger body is a 413 raised as ApiError
// before any of it is kept or parsed (what a body may hold is checked in api_input.h).
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>

namespace outpost::fleet {

// Called before answering 413 to a body whose Content-Length is over the limit. A client that
// writes its whole body before reading (httplib's) sees the answer only when the body was
// read, so a body of at most 64 MiB is read and discarded; a larger one is not read at all
// and the connection closes after the answer.
void DrainSmallExcess(const httplib::ContentReader& reader, int64_t content_length);

// Reads the request body through httplib's content reader, refusing more than `max_bytes`
// (413) before it is all in memory.
std::string ReadBody(const httplib::Request& req, const httplib::ContentReader& reader, int64_t max_bytes);

}  // namespace outpost::fleet
