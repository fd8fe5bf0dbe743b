// One HTTP request of a test, answered as a Reply (server_fixture.h): shared by the in-process
// fixture and the tests that drive `outpost fleet serve` processes.
#include "tests/fleet/server/server_fixture.h"

namespace outpost::fleet::testing {

Reply SendRequest(httplib::Client& client, const std::string& method, const std::string& path,
                  const std::string& token, const std::string& body, const std::string& content_type,
                  const httplib::Headers& extra) {
  httplib::Headers headers = extra;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  auto call = [&]() -> httplib::Result {
    if (method == "GET") return client.Get(path.c_str(), headers);
    if (method == "POST") return client.Post(path.c_str(), headers, body, content_type.c_str());
    if (method == "PUT") return client.Put(path.c_str(), headers, body, content_type.c_str());
    if (method == "PATCH") return client.Patch(path.c_str(), headers, body, content_type.c_str());
    return client.Delete(path.c_str(), headers, body, content_type.c_str());
  };
  httplib::Result r = call();
  Reply reply;
  if (!r) return reply;
  reply.status = r->status;
  reply.body = r->body;
  reply.headers = r->headers;
  reply.json = nlohmann::json::parse(r->body, nullptr, false);
  if (reply.json.is_discarded()) reply.json = nullptr;
  return reply;
}

}  // namespace outpost::fleet::testing
