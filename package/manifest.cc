#include "package/manifest.h"

#include <regex>

#include "common/json_nesting.h"

namespace outpost::package {
namespace {

using nlohmann::json;

bool IsHex(const std::string& s, size_t digits) {
  if (s.size() != digits) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

const json& Field(const json& j, const char* key, json::value_t type, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw Error("manifest: missing field " + where + key);
  const bool number_ok = type == json::value_t::number_unsigned && it->is_number_unsigned();
  const bool float_ok = type == json::value_t::number_float && it->is_number();
  if (it->type() != type && !number_ok && !float_ok)
    throw Error("manifest: field " + where + key + " has the wrong type");
  return *it;
}

std::string Str(const json& j, const char* key, const std::string& where = "") {
  return Field(j, key, json::value_t::string, where).get<std::string>();
}
uint64_t U64(const json& j, const char* key, const std::string& where = "") {
  return Field(j, key, json::value_t::number_unsigned, where).get<uint64_t>();
}


}  // namespace

bool IsSemanticVersion(const std::string& v) {
  static const std::regex kSemver(
      R"(^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*))"
      R"((?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?)"
      R"((?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$)");
  return v.size() <= 256 && std::regex_match(v, kSemver);
}

Expected<uint64_t> CounterFromVersion(const std::string& v) {
  if (!IsSemanticVersion(v)) return Error("version '" + v + "' is not a semantic version (e.g. 1.2.3)");
  const size_t core_end = v.find_first_of("-+");
  if (core_end != std::string::npos && v[core_end] == '-')
    return Error("version '" + v + "' is a pre-release: give the counter explicitly");
  const std::string core = v.substr(0, core_end);
  uint64_t parts[3] = {0, 0, 0};
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t dot = core.find('.', start);
    const std::string p = core.substr(start, dot - start);
    if (p.size() > 6) return Error("version '" + v + "': each part must be below 1000000 to derive a counter");
    parts[i] = std::stoull(p);
    start = dot + 1;
  }
  if (parts[0] >= 1000000 || parts[1] >= 1000000 || parts[2] >= 1000000)
    return Error("version '" + v + "': each part must be below 1000000 to derive a counter");
  const uint64_t c = parts[0] * 1000000000000ull + parts[1] * 1000000ull + parts[2];
  if (c == 0) return Error("version 0.0.0 gives counter 0: counters are positive");
  return c;
}

std::string CanonicalManifest(const Manifest& m) {
  json j = json::object();
  j["format"] = kManifestFormat;
  j["name"] = m.name;
  j["version"] = m.version;
  j["counter"] = m.counter;
  j["targets"] = m.targets;
  j["min_runtime"] = m.min_runtime;
  json model = json::object();
  model["bytes"] = m.model_bytes;
  model["blake2b"] = m.model_blake2b;
  model["tensors"] = json::array();
  for (const TensorHash& t : m.tensors)
    model["tensors"].push_back({{"buffer", t.buffer}, {"tensor", t.tensor}, {"blake2b", t.blake2b}});
  j["model"] = model;
  j["figures"] = json::object();
  for (const auto& [k, f] : m.figures) j["figures"][k] = {{"value", f.value}, {"source", f.source}};
  j["created"] = m.created;
  j["signer"] = m.signer;
  if (m.encryption) {
    const Encryption& e = *m.encryption;
    json enc = {{"cipher", kCipher},
                {"chunk_bytes", e.chunk_bytes},
                {"stream_header", e.stream_header}};
    if (!e.fleet_key.empty()) enc["fleet_key"] = e.fleet_key;
    if (!e.sealed_keys.empty()) {
      enc["sealed_keys"] = json::array();
      for (const SealedKey& s : e.sealed_keys)
        enc["sealed_keys"].push_back({{"device", s.device}, {"sealed", s.sealed}});
    }
    j["encryption"] = enc;
  } else {
    j["encryption"] = nullptr;
  }
  return j.dump();  // nlohmann::json objects keep keys sorted: the dump is canonical
}

Expected<Manifest> ParseManifest(std::string_view text) {
  return Capture([&]() -> Manifest {
    // The manifest nests 4 levels deep; refusing deeper input up front keeps a hostile manifest
    // (it is parsed before the signature check to explain a failure) from driving recursion.
    if (!JsonNestingWithin(text, 8)) throw Error("manifest: nested too deeply");
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) throw Error("manifest: not a JSON object");
    if (j.dump() != text) throw Error("manifest: not in canonical form");
    if (Str(j, "format") != kManifestFormat)
      throw Error("manifest: unknown manifest format '" + Str(j, "format") + "'");
    Manifest m;
    m.name = Str(j, "name");
    m.version = Str(j, "version");
    if (!IsSemanticVersion(m.version)) throw Error("manifest: version '" + m.version + "' is not a semantic version");
    m.counter = U64(j, "counter");
    if (m.counter == 0) throw Error("manifest: counter must be positive");
    for (const json& t : Field(j, "targets", json::value_t::array, "")) {
      if (!t.is_string()) throw Error("manifest: targets must be strings");
      m.targets.push_back(t.get<std::string>());
    }
    m.min_runtime = Str(j, "min_runtime");
    if (!IsSemanticVersion(m.min_runtime)) throw Error("manifest: min_runtime is not a semantic version");
    const json& model = Field(j, "model", json::value_t::object, "");
    m.model_bytes = U64(model, "bytes", "model.");
    m.model_blake2b = Str(model, "blake2b", "model.");
    if (!IsHex(m.model_blake2b, 64)) throw Error("manifest: model.blake2b is not 64 hex digits");
    for (const json& t : Field(model, "tensors", json::value_t::array, "model.")) {
      if (!t.is_object()) throw Error("manifest: model.tensors entries must be objects");
      TensorHash h;
      const uint64_t b = U64(t, "buffer", "model.tensors[].");
      if (b > UINT32_MAX) throw Error("manifest: buffer index out of range");
      h.buffer = static_cast<uint32_t>(b);
      h.tensor = Str(t, "tensor", "model.tensors[].");
      h.blake2b = Str(t, "blake2b", "model.tensors[].");
      if (!IsHex(h.blake2b, 64)) throw Error("manifest: a tensor hash is not 64 hex digits");
      m.tensors.push_back(std::move(h));
    }
    for (const auto& [k, f] : Field(j, "figures", json::value_t::object, "").items()) {
      if (!f.is_object()) throw Error("manifest: figure " + k + " is not an object");
      Figure fig;
      fig.value = Field(f, "value", json::value_t::number_float, "figures." + k + ".");
      fig.source = Str(f, "source", "figures." + k + ".");
      m.figures[k] = std::move(fig);
    }
    m.created = Str(j, "created");
    m.signer = Str(j, "signer");
    if (!IsHex(m.signer, 16)) throw Error("manifest: signer is not a 16-digit key id");
    auto enc = j.find("encryption");
    if (enc == j.end()) throw Error("manifest: missing field encryption");
    if (!enc->is_null()) {
      if (!enc->is_object()) throw Error("manifest: field encryption has the wrong type");
      if (Str(*enc, "cipher", "encryption.") != kCipher)
        throw Error("manifest: unknown cipher '" + Str(*enc, "cipher", "encryption.") + "'");
      Encryption e;
      const uint64_t chunk = U64(*enc, "chunk_bytes", "encryption.");
      if (chunk == 0 || chunk > (16u << 20)) throw Error("manifest: encryption.chunk_bytes out of range");
      e.chunk_bytes = static_cast<uint32_t>(chunk);
      e.stream_header = Str(*enc, "stream_header", "encryption.");
      if (enc->contains("fleet_key")) e.fleet_key = Str(*enc, "fleet_key", "encryption.");
      if (enc->contains("sealed_keys"))
        for (const json& s : Field(*enc, "sealed_keys", json::value_t::array, "encryption.")) {
          if (!s.is_object()) throw Error("manifest: sealed_keys entries must be objects");
          e.sealed_keys.push_back({Str(s, "device", "sealed_keys[]."), Str(s, "sealed", "sealed_keys[].")});
        }
      if (e.fleet_key.empty() == e.sealed_keys.empty())
        throw Error("manifest: an encrypted package names either a fleet key or sealed keys");
      m.encryption = std::move(e);
    }
    return m;
  });
}

}  // namespace outpost::package
