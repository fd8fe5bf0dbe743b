// GET /v1/artifacts/{digest} and /v1/deltas/{base}/{target}: packages and deltas streamed from
// disk, with single byte ranges so an interrupted download resumes. httplib 0.11.4 slices a
// content provider's output by the request's Range itself (206, Content-Range), but does not
// check the range against the length: that is done here (416 when it starts past the end, an
// end past the file is clamped), before httplib sees it.
#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "fleet/server/api_context.h"
#include "fleet/server/validation.h"

namespace outpost::fleet {
namespace {

struct OpenFile {
  int fd = -1;
  int64_t size = 0;
  std::atomic<int64_t> sent{0};
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

// Checks and normalizes the request's single range; throws 416 for anything unsatisfiable.
void CheckRange(const httplib::Request& req, httplib::Response& res, int64_t size) {
  if (req.ranges.empty()) return;
  auto refuse = [&](const std::string& why) {
    res.set_header("Content-Range", "bytes */" + std::to_string(size));
    throw ApiError(416, why + " (the file has " + std::to_string(size) + " bytes)");
  };
  if (req.ranges.size() > 1) refuse("only a single byte range is supported");
  auto& r = const_cast<httplib::Request&>(req).ranges[0];  // see IgnoreRanges
  if (r.first == -1 && r.second == -1) refuse("empty range");
  if (r.first == -1) {  // suffix: the last N bytes
    if (r.second <= 0 || size == 0) refuse("range not satisfiable");
    r.first = std::max<int64_t>(0, size - r.second);
    r.second = size - 1;
    return;
  }
  if (r.first >= size) refuse("range starts past the end");
  if (r.second != -1 && r.second < r.first) refuse("range ends before it starts");
  if (r.second == -1 || r.second >= size) r.second = size - 1;
}

void Stream(ApiContext& ctx, const httplib::Request& req, httplib::Response& res, const std::string& path,
            const std::optional<Device>& device, const char* kind) {
  auto file = std::make_shared<OpenFile>();
  file->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (file->fd < 0 || ::fstat(file->fd, &st) != 0) throw ApiError(404, "the file is missing on the server");
  file->size = st.st_size;
  CheckRange(req, res, file->size);
  res.set_header("Accept-Ranges", "bytes");
  const std::string device_id = device ? device->id : "";
  FleetStore* store = ctx.store.get();
  ApiContext* c = &ctx;
  res.set_content_provider(
      static_cast<size_t>(file->size), "application/octet-stream",
      [file](size_t offset, size_t length, httplib::DataSink& sink) {
        char buf[1 << 16];
        const size_t n = std::min(length, sizeof(buf));
        ssize_t got;
        do got = ::pread(file->fd, buf, n, static_cast<off_t>(offset));
        while (got < 0 && errno == EINTR);
        if (got <= 0) return false;  // the file shrank or failed: end the response
        if (!sink.write(buf, static_cast<size_t>(got))) return false;
        file->sent += got;
        return true;
      },
      [file, device_id, store, c, kind](bool) {
        // Bytes actually sent, also for an interrupted download (it resumes with a range).
        if (!device_id.empty() && file->sent > 0) {
          Expected<Unit> r = store->RecordTransfer({device_id, kind, file->sent.load(), c->now()});
          if (!r.ok()) LogStoreFailure("recording a transfer", r.message());
        }
      });
}

void GetArtifact(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::optional<Device> device = ctx.auth->RequireAdminOrDevice(req);
  const std::string digest = req.matches[1];
  if (!IsDigest(digest)) throw ApiError(400, "not an artifact digest (64 hex digits)");
  if (!StoreValue(ctx.store->FindModelByDigest(digest), "reading the registry"))
    throw ApiError(404, "no artifact " + digest);
  Stream(ctx, req, res, ctx.artifacts.PathOf(ArtifactKind::kPackage, digest), device, "package");
}

void GetDelta(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::optional<Device> device = ctx.auth->RequireAdminOrDevice(req);
  const std::string base = req.matches[1], target = req.matches[2];
  if (!IsDigest(base) || !IsDigest(target)) throw ApiError(400, "not an artifact digest (64 hex digits)");
  std::optional<Delta> delta = StoreValue(ctx.store->FindDelta(base, target), "looking up a delta");
  if (!delta) throw ApiError(404, "no delta from " + base + " to " + target);
  Stream(ctx, req, res, ctx.artifacts.PathOf(ArtifactKind::kDelta, delta->digest), device, "delta");
}

}  // namespace

void RegisterDownloadApi(httplib::Server& server, ApiContext& ctx) {
  server.Get("/v1/artifacts/([^/]+)", Guarded([&ctx](const auto& req, auto& res) { GetArtifact(ctx, req, res); }));
  server.Get("/v1/deltas/([^/]+)/([^/]+)", Guarded([&ctx](const auto& req, auto& res) { GetDelta(ctx, req, res); }));
}

}  // namespace outpost::fleet
