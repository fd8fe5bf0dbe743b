// POST /v1/models: an operator uploads a signed .opk. The body is streamed to a temp file
// (never held in memory), verified with the fleet signing key, then moved to its
// content-addressed name and entered in the registry from its signed manifest. A refused
// upload leaves neither a file nor a registry entry.
#include <httplib.h>

#include "fleet/server/api_context.h"
#include "fleet/server/api_input.h"
#include "fleet/server/request_body.h"
#include "fleet/server/validation.h"
#include "package/verify.h"

namespace outpost::fleet {
namespace {

ArtifactStore::Writer ReceivePackage(ApiContext& ctx, const httplib::Request& req, const httplib::ContentReader& reader) {
  const int64_t max = ctx.options.max_package_bytes;
  const std::string too_large = "package larger than " + std::to_string(max) + " bytes";
  if (req.has_header("Content-Length")) {
    const std::string v = req.get_header_value("Content-Length");
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) throw ApiError(400, "malformed Content-Length");
    if (v.size() > 18 || std::stoll(v) > max) {
      if (v.size() <= 18) DrainSmallExcess(reader, std::stoll(v));
      throw ApiError(413, too_large);
    }
  }
  Expected<ArtifactStore::Writer> writer = ctx.artifacts.NewWriter();
  if (!writer.ok()) throw ApiError(500, "cannot store the upload");
  bool over = false, failed = false;
  reader([&](const char* data, size_t n) {
    if (writer->size() + static_cast<int64_t>(n) > max) return !(over = true);
    if (!writer->Append(data, n).ok()) return !(failed = true);
    return true;
  });
  if (over) throw ApiError(413, too_large);  // a body without Content-Length: stop reading
  if (failed) throw ApiError(500, "cannot store the upload");
  if (writer->size() == 0) throw ApiError(400, "empty request body: send the .opk bytes");
  return std::move(*writer);
}

nlohmann::json FiguresJson(const package::Manifest& m) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, figure] : m.figures) out[name] = figure.value;
  return out;
}

void Upload(ApiContext& ctx, const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  ctx.auth->RequireAdmin(req);
  const std::string parent = InputValue(ParseUploadQuery(req.params));

  ArtifactStore::Writer writer = ReceivePackage(ctx, req, reader);
  Expected<std::string> digest = writer.Finish();
  if (!digest.ok()) throw ApiError(500, "cannot store the upload");
  Expected<package::VerifiedPackage> verified = package::VerifyPackageFile(writer.temp_path(), ctx.signing_key);
  if (!verified.ok()) throw ApiError(422, verified.message());
  const package::Manifest& m = verified->manifest;
  if (!IsModelName(m.name)) throw ApiError(422, "the package's model name must be 1-64 of A-Z a-z 0-9 . _ -");
  if (!IsVersion(m.version)) throw ApiError(422, "the package's version is not a semantic version of at most 64 characters");
  if (m.counter > static_cast<uint64_t>(INT64_MAX)) throw ApiError(422, "the package's counter is out of range");

  if (StoreValue(ctx.store->FindModelVersion(m.name, m.version), "reading the registry"))
    throw ApiError(409, "model " + m.name + " version " + m.version + " is already registered");
  for (const ModelVersion& other : StoreValue(ctx.store->ListModelVersions(m.name), "reading the registry")) {
    if (other.counter == static_cast<int64_t>(m.counter))
      throw ApiError(409, "model " + m.name + " counter " + std::to_string(m.counter) + " is already used by version " +
                              other.version);
  }
  if (!parent.empty() && !StoreValue(ctx.store->FindModelVersion(m.name, parent), "reading the registry"))
    throw ApiError(422, "parent version " + parent + " of model " + m.name + " is not registered");

  ModelVersion entry;
  entry.name = m.name;
  entry.version = m.version;
  entry.counter = static_cast<int64_t>(m.counter);
  entry.digest = *digest;
  entry.size = writer.size();
  entry.parent = parent;
  entry.manifest_json = verified->manifest_json;
  entry.figures_json = FiguresJson(m).dump();
  entry.created_ms = ctx.now();
  // The file goes in place first: a registry entry always names an existing artifact. A file
  // left by a registry refusal is harmless (content-addressed, identical if uploaded again).
  if (!ctx.artifacts.Commit(writer, ArtifactKind::kPackage, entry.digest).ok())
    throw ApiError(500, "cannot store the upload");
  if (!ctx.store->AddModelVersion(entry).ok()) {
    // Another upload of the same version or counter won the race (or the store failed).
    if (StoreValue(ctx.store->FindModelVersion(m.name, m.version), "reading the registry"))
      throw ApiError(409, "model " + m.name + " version " + m.version + " is already registered");
    throw ApiError(409, "model " + m.name + " version " + m.version + " conflicts with a registered version");
  }
  SendJson(res, 201, ModelJson(entry));
}

}  // namespace

void RegisterModelUpload(httplib::Server& server, ApiContext& ctx) {
  server.Post("/v1/models",
              GuardedReader([&ctx](const auto& req, auto& res, const auto& reader) { Upload(ctx, req, res, reader); }));
}

}  // namespace outpost::fleet
