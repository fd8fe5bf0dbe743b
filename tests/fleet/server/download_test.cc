// Downloads: whole and by byte ranges (reassembled equal to the stored package), 416 past the
// end; a delta offered to a device running a registered version rebuilds the target package
// bit for bit; bytes sent are recorded per device.
#include <chrono>
#include <thread>

#include "package/package_delta.h"
#include "tests/fleet/server/server_fixture.h"

namespace outpost::fleet::testing {
namespace {

using DownloadTest = FleetServerTest;

std::string Str(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

TEST_P(DownloadTest, APackageDownloadsWholeAndByRanges) {
  const EnrolledDevice d = Enroll();
  const std::vector<uint8_t> pkg = Package("1.0.0", nullptr, 200 * 1024);
  Reply up = Upload(pkg);
  ASSERT_EQ(up.status, 201) << up.body;
  const std::string url = "/v1/artifacts/" + up.json["digest"].get<std::string>();

  Reply whole = Send("GET", url, d.credential);
  ASSERT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.body == Str(pkg));

  // Resumable: fixed-size ranges, the last one open-ended, reassembled.
  std::string joined;
  const size_t chunk = 50000;
  for (size_t at = 0; at < pkg.size(); at += chunk) {
    const bool last = at + chunk >= pkg.size();
    const std::string range = "bytes=" + std::to_string(at) + "-" + (last ? "" : std::to_string(at + chunk - 1));
    Reply part = Send("GET", url, d.credential, "", "", {{"Range", range}});
    ASSERT_EQ(part.status, 206) << range;
    const size_t end = last ? pkg.size() - 1 : at + chunk - 1;
    EXPECT_EQ(httplib::detail::get_header_value(part.headers, "Content-Range", 0, ""),
              "bytes " + std::to_string(at) + "-" + std::to_string(end) + "/" + std::to_string(pkg.size()));
    joined += part.body;
  }
  EXPECT_TRUE(joined == Str(pkg));

  // An end past the file is clamped; a suffix range is the last bytes.
  Reply tail = Send("GET", url, d.credential, "", "", {{"Range", "bytes=" + std::to_string(pkg.size() - 10) + "-99999999"}});
  ASSERT_EQ(tail.status, 206);
  EXPECT_TRUE(tail.body == Str(pkg).substr(pkg.size() - 10));
  Reply suffix = Send("GET", url, d.credential, "", "", {{"Range", "bytes=-7"}});
  ASSERT_EQ(suffix.status, 206);
  EXPECT_TRUE(suffix.body == Str(pkg).substr(pkg.size() - 7));

  Reply past = Send("GET", url, d.credential, "", "", {{"Range", "bytes=" + std::to_string(pkg.size()) + "-"}});
  EXPECT_EQ(past.status, 416);
  EXPECT_TRUE(past.json.contains("error")) << past.body;
  EXPECT_EQ(Send("GET", url, d.credential, "", "", {{"Range", "bytes=10-5"}}).status, 416);
  EXPECT_EQ(Send("GET", url, d.credential, "", "", {{"Range", "bytes=0-1,5-6"}}).status, 416);

  // An error under a Range header is still the whole JSON error.
  Reply missing = Send("GET", "/v1/artifacts/" + std::string(64, 'a'), d.credential, "", "", {{"Range", "bytes=0-3"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(missing.json.contains("error")) << missing.body;
  EXPECT_EQ(Send("GET", "/v1/artifacts/not-hex", d.credential).status, 400);

  // Admin downloads too; bytes sent to the device were recorded (the whole file, the ranges,
  // the tail and the suffix).
  EXPECT_EQ(Send("GET", url, kAdminToken).status, 200);
  // The server records a download once its last byte is written, which can be just after the
  // client has read the reply: wait for the figure, with a deadline.
  const int64_t expected = static_cast<int64_t>(2 * pkg.size() + 10 + 7);
  int64_t package_bytes = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (package_bytes != expected && std::chrono::steady_clock::now() < deadline) {
    package_bytes = 0;
    const auto totals = store_->TransferTotals(d.id, 0, INT64_MAX).value();
    for (const auto& [kind, bytes] : totals) {
      if (kind == "package") package_bytes = bytes;
    }
    if (package_bytes != expected) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(package_bytes, expected);
}

TEST_P(DownloadTest, ADeltaIsOfferedAndRebuildsTheTargetBitForBit) {
  const EnrolledDevice d = Enroll();
  const std::vector<uint8_t> base = Package("1.0.0", nullptr, 64 * 1024);
  const std::vector<uint8_t> target = Package("1.1.0", nullptr, 64 * 1024);
  ASSERT_EQ(Upload(base).status, 201);
  ASSERT_EQ(Upload(target, "?parent=1.0.0").status, 201);
  ASSERT_EQ(Admin("PUT", "/v1/devices/" + d.id + "/desired", {{"model", "big_add"}, {"version", "1.1.0"}}).status, 200);

  Reply poll = Send("POST", "/v1/device/poll", d.credential, R"({"model":"big_add","version":"1.0.0"})");
  ASSERT_EQ(poll.status, 200) << poll.body;
  const nlohmann::json& delta = poll.json["desired"]["delta"];
  ASSERT_TRUE(delta.is_object()) << poll.body;
  EXPECT_LT(delta["size"].get<int64_t>(), static_cast<int64_t>(target.size()) / 4);

  Reply file = Send("GET", delta["url"], d.credential);
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(static_cast<int64_t>(file.body.size()), delta["size"].get<int64_t>());
  const std::vector<uint8_t> bytes(file.body.begin(), file.body.end());
  Expected<package::PatchedPackage> patched = package::ApplyPackageDelta(base, bytes, keys_.public_key);
  ASSERT_TRUE(patched.ok()) << patched.message();
  EXPECT_TRUE(patched->bytes == target);

  // Computed once: the second poll offers the same file.
  Reply again = Send("POST", "/v1/device/poll", d.credential, R"({"model":"big_add","version":"1.0.0"})");
  EXPECT_EQ(again.json["desired"]["delta"], delta);
  // Running the target already: nothing to diff.
  Reply current = Send("POST", "/v1/device/poll", d.credential, R"({"model":"big_add","version":"1.1.0"})");
  EXPECT_FALSE(current.json["desired"].contains("delta"));
  EXPECT_EQ(Send("GET", "/v1/deltas/" + std::string(64, 'a') + "/" + std::string(64, 'b'), d.credential).status, 404);
}

TEST_P(DownloadTest, ConcurrentFirstPollsShareOneDelta) {
  const std::vector<uint8_t> base = Package("1.0.0", nullptr, 64 * 1024);
  const std::vector<uint8_t> target = Package("1.1.0", nullptr, 64 * 1024);
  ASSERT_EQ(Upload(base).status, 201);
  ASSERT_EQ(Upload(target).status, 201);
  std::vector<EnrolledDevice> devices;
  for (int i = 0; i < 4; ++i) {
    devices.push_back(Enroll("cam-" + std::to_string(i)));
    ASSERT_EQ(Admin("PUT", "/v1/devices/" + devices.back().id + "/desired", {{"model", "big_add"}, {"version", "1.1.0"}}).status, 200);
  }
  std::vector<std::thread> threads;
  std::vector<std::string> urls(devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", server_->port());
      auto r = c.Post("/v1/device/poll", {{"Authorization", "Bearer " + devices[i].credential}},
                      R"({"model":"big_add","version":"1.0.0"})", "application/json");
      if (r && r->status == 200) urls[i] = nlohmann::json::parse(r->body)["desired"]["delta"]["url"];
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& u : urls) EXPECT_EQ(u, urls[0]);
  Reply file = Send("GET", urls[0], kAdminToken);
  ASSERT_EQ(file.status, 200);
  Expected<package::PatchedPackage> patched =
      package::ApplyPackageDelta(base, std::vector<uint8_t>(file.body.begin(), file.body.end()), keys_.public_key);
  ASSERT_TRUE(patched.ok()) << patched.message();
  EXPECT_TRUE(patched->bytes == target);
}

FLEET_SERVER_SUITE(DownloadTest);

}  // namespace
}  // namespace outpost::fleet::testing
