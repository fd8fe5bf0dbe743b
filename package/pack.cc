#include "package/pack.h"

#include <sodium.h>

#include <cmath>
#include <cstring>
#include <ctime>

#include "io/model_file.h"
#include "package/codec.h"
#include "package/package_header.h"
#include "package/sodium_init.h"

#ifndef OUTPOST_VERSION
#define OUTPOST_VERSION "0.1.0"
#endif

namespace outpost::package {
namespace {

std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A number stored in the model's metadata under one of `keys`, if any parses.
std::optional<double> MetadataNumber(const opm::Model& fb, std::initializer_list<const char*> keys) {
  if (fb.metadata() == nullptr) return std::nullopt;
  for (const char* key : keys)
    for (const auto* kv : *fb.metadata()) {
      if (kv->key() == nullptr || kv->value() == nullptr || kv->key()->str() != key) continue;
      char* end = nullptr;
      const std::string v = kv->value()->str();
      const double d = std::strtod(v.c_str(), &end);
      if (!v.empty() && end == v.c_str() + v.size() && std::isfinite(d)) return d;
    }
  return std::nullopt;
}

void AddFigures(const opm::Model& fb, const PackOptions& o, Manifest& m) {
  if (fb.plan() != nullptr) m.figures["arena_bytes"] = {fb.plan()->arena_bytes(), "model"};
  m.figures["macs"] = {fb.macs(), "model"};
  auto add = [&](const char* name, std::optional<double> given,
                 std::initializer_list<const char*> keys) {
    if (given) {
      if (!std::isfinite(*given) || *given < 0)
        throw Error(std::string(name) + " must be a non-negative number");
      m.figures[name] = {*given, "command line"};
    } else if (auto v = MetadataNumber(fb, keys)) {
      m.figures[name] = {*v, "model metadata"};
    }
  };
  add("accuracy", o.accuracy, {"outpost.accuracy", "accuracy"});
  add("latency_ms", o.latency_ms, {"outpost.latency_ms", "latency_ms"});
}

}  // namespace

const char* RuntimeVersion() { return OUTPOST_VERSION; }

std::vector<uint8_t> AssemblePackage(const Manifest& manifest, std::span<const uint8_t> payload,
                                     const Key& signing_secret) {
  InitSodium();
  std::string json;
  try {
    json = CanonicalManifest(manifest);
  } catch (const std::exception&) {  // nlohmann refuses strings that are not UTF-8
    throw Error("manifest: a text field is not valid UTF-8");
  }
  if (json.size() > kMaxManifestBytes) throw Error("manifest: larger than 1 MiB");
  PackageHeader h;
  h.flags = manifest.encryption ? kFlagEncrypted : 0;
  h.manifest_bytes = static_cast<uint32_t>(json.size());
  h.payload_bytes = payload.size();
  std::vector<uint8_t> out(kHeaderBytes + json.size() + payload.size() + kSignatureBytes);
  EncodeHeader(h, out.data());
  std::memcpy(out.data() + kHeaderBytes, json.data(), json.size());
  if (!payload.empty()) std::memcpy(out.data() + kHeaderBytes + json.size(), payload.data(), payload.size());
  crypto_sign_state st;
  crypto_sign_init(&st);
  crypto_sign_update(&st, out.data(), out.size() - kSignatureBytes);
  crypto_sign_final_create(&st, out.data() + out.size() - kSignatureBytes, nullptr,
                           signing_secret.bytes().data());
  return out;
}

Expected<std::vector<uint8_t>> PackModel(std::span<const uint8_t> opm, const Key& key,
                                         const PackOptions& o) {
  return Capture([&]() -> std::vector<uint8_t> {
    InitSodium();
    if (key.type() != KeyType::kSigningSecret) throw Error("packing needs a signing secret key");
    if (!IsSemanticVersion(o.version))
      throw Error("version '" + o.version + "' is not a semantic version (e.g. 1.2.3)");
    const std::string min_runtime = o.min_runtime.empty() ? RuntimeVersion() : o.min_runtime;
    if (!IsSemanticVersion(min_runtime))
      throw Error("minimum runtime version '" + min_runtime + "' is not a semantic version");
    if (o.fleet_key && !o.devices.empty())
      throw Error("encrypt with a fleet key or for devices, not both");
    const io::LoadedModel model = [&] {
      Expected<io::LoadedModel> m = io::LoadedModel::FromBytes("model", opm);
      if (!m) throw m.error();
      if (Expected<size_t> c = m->VerifyContentHashes(); !c) throw c.error();
      return std::move(m.value());
    }();
    const opm::Model& fb = model.fb();

    Manifest m;
    m.name = o.name;
    if (m.name.empty() && fb.name() != nullptr) m.name = fb.name()->str();
    if (m.name.empty()) m.name = o.default_name;
    if (m.name.empty()) throw Error("the model has no name: give one");
    m.version = o.version;
    if (o.counter) {
      if (*o.counter == 0) throw Error("the version counter must be positive");
      m.counter = *o.counter;
    } else {
      Expected<uint64_t> c = CounterFromVersion(o.version);
      if (!c) throw c.error();
      m.counter = *c;
    }
    m.targets = o.targets;
    m.min_runtime = min_runtime;
    m.model_bytes = opm.size();
    uint8_t digest[32];
    crypto_generichash(digest, sizeof(digest), opm.data(), opm.size(), nullptr, 0);
    m.model_blake2b = ToHex(digest);
    if (fb.buffers() != nullptr)
      for (uint32_t b = 0; b < fb.buffers()->size(); ++b) {
        const auto* hash = fb.buffers()->Get(b)->hash();
        if (hash == nullptr) continue;
        TensorHash t;
        t.buffer = b;
        for (uint32_t i = 0; i < fb.tensors()->size(); ++i)
          if (fb.tensors()->Get(i)->buffer() == static_cast<int32_t>(b)) {
            t.tensor = model.TensorName(static_cast<int>(i));
            break;
          }
        t.blake2b = ToHex(std::span<const uint8_t>(hash->data(), hash->size()));
        m.tensors.push_back(std::move(t));
      }
    AddFigures(fb, o, m);
    m.created = o.created.empty() ? UtcNow() : o.created;
    m.signer = key.id();

    if (!o.fleet_key && o.devices.empty()) return AssemblePackage(m, opm, key);

    Encryption e;
    e.chunk_bytes = kChunkBytes;
    const StreamHeader header = o.stream_header ? *o.stream_header : RandomStreamHeader();
    e.stream_header = ToBase64(header);
    ContentKey content{};
    if (o.fleet_key) {
      if (o.fleet_key->type() != KeyType::kFleet) throw Error("--encrypt-fleet needs a fleet key");
      std::memcpy(content.data(), o.fleet_key->bytes().data(), content.size());
      e.fleet_key = o.fleet_key->id();
    } else {
      content = o.content_key ? *o.content_key : RandomContentKey();
      for (const Key& d : o.devices) {
        if (d.type() != KeyType::kDevicePublic) throw Error("--encrypt-for needs device public keys");
        e.sealed_keys.push_back({d.id(), ToBase64(SealContentKey(content, d))});
      }
    }
    m.encryption = e;
    std::vector<uint8_t> ciphertext = EncryptPayload(opm, content, header);
    sodium_memzero(content.data(), content.size());
    return AssemblePackage(m, ciphertext, key);
  });
}

}  // namespace outpost::package
