#include "package/unpack.h"

#include <sodium.h>

#include <cstring>

#include "io/mapped_file.h"
#include "io/model_file.h"
#include "package/codec.h"
#include "package/content_key.h"
#include "package/payload_cipher.h"
#include "package/sodium_init.h"

namespace outpost::package {
namespace {

void CheckAgainstManifest(std::span<const uint8_t> model_bytes, const Manifest& m) {
  if (model_bytes.size() != m.model_bytes)
    throw Error("package: the model does not match the manifest: " + std::to_string(model_bytes.size()) +
                " bytes, the manifest says " + std::to_string(m.model_bytes));
  uint8_t digest[32];
  crypto_generichash(digest, sizeof(digest), model_bytes.data(), model_bytes.size(), nullptr, 0);
  if (ToHex(digest) != m.model_blake2b)
    throw Error("package: the model does not match the manifest's BLAKE2b-256");
  Expected<io::LoadedModel> model = io::LoadedModel::FromBytes("package: model", model_bytes);
  if (!model) throw model.error();
  if (Expected<size_t> c = model->VerifyContentHashes(); !c) throw c.error();
  const auto* buffers = model->fb().buffers();
  size_t hashed = 0;
  if (buffers != nullptr)
    for (uint32_t b = 0; b < buffers->size(); ++b)
      if (buffers->Get(b)->hash() != nullptr) ++hashed;
  if (hashed != m.tensors.size())
    throw Error("package: the model does not match the manifest: " + std::to_string(hashed) +
                " hashed buffers, the manifest lists " + std::to_string(m.tensors.size()));
  for (const TensorHash& t : m.tensors) {
    const auto* hash = t.buffer < (buffers ? buffers->size() : 0) ? buffers->Get(t.buffer)->hash() : nullptr;
    if (hash == nullptr || ToHex(std::span<const uint8_t>(hash->data(), hash->size())) != t.blake2b)
      throw Error("package: the model does not match the manifest: content hash of buffer " +
                  std::to_string(t.buffer) + (t.tensor.empty() ? "" : " ('" + t.tensor + "')") + " differs");
  }
}

}  // namespace

Expected<UnpackedModel> UnpackPackageBytes(std::span<const uint8_t> bytes, const Key& signing_public,
                                           const Key* decryption_key) {
  return Capture([&]() -> UnpackedModel {
    Expected<VerifiedPackage> v = VerifyPackageBytes(bytes, signing_public);
    if (!v) throw v.error();
    const PackageHeader& h = v->header;
    const auto payload = bytes.subspan(h.payload_offset(), h.payload_bytes);
    UnpackedModel out{std::move(v.value()), {}};
    const Manifest& m = out.package.manifest;
    if (m.encryption) {
      ContentKey content = ContentKeyFor(*m.encryption, decryption_key).value();
      const StreamHeader header = StreamHeaderOf(*m.encryption).value();
      Expected<std::vector<uint8_t>> plain = DecryptPayload(payload, content, header, m.encryption->chunk_bytes);
      sodium_memzero(content.data(), content.size());
      if (!plain) throw Error("package: " + plain.message());
      out.model = std::move(plain.value());
    } else {
      out.model.assign(payload.begin(), payload.end());
    }
    CheckAgainstManifest(out.model, m);
    return out;
  });
}

Expected<UnpackedModel> UnpackPackageFile(const std::string& package_path, const Key& signing_public,
                                          const Key* decryption_key, const std::string& model_path) {
  Expected<io::MappedFile> file = io::MappedFile::Open(package_path);
  if (!file) return file.error();
  Expected<UnpackedModel> u = UnpackPackageBytes(file->bytes(), signing_public, decryption_key);
  if (!u) return u;
  if (Expected<Unit> w = io::WriteFileAtomic(model_path, u->model); !w) return w.error();
  return u;
}

}  // namespace outpost::package
