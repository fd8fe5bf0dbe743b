// outpost pack / verify / unpack: signed model packages (docs/package-format.md).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "package/pack.h"
#include "package/unpack.h"
#include "package/verify.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"

namespace outpost::cli {
namespace {

using package::KeyType;

struct PackArgs {
  std::string model, key, version, output, name, min_runtime, fleet;
  std::optional<uint64_t> counter;
  std::optional<double> accuracy, latency_ms;
  std::vector<std::string> targets, devices;
};

void RunPack(const PackArgs& a) {
  if (!a.fleet.empty() && !a.devices.empty())
    throw UsageError("--encrypt-fleet and --encrypt-for exclude each other");
  if (!package::IsSemanticVersion(a.version))
    throw UsageError("--version '" + a.version + "' is not a semantic version (e.g. 1.2.3)");
  if (a.counter && *a.counter == 0) throw UsageError("--counter must be positive");
  const package::Key key = Must(package::ReadKeyFile(a.key, {KeyType::kSigningSecret}));
  package::PackOptions o;
  o.name = a.name;
  o.default_name = std::filesystem::path(a.model).stem().string();
  o.version = a.version;
  o.counter = a.counter;
  o.targets = a.targets;
  o.min_runtime = a.min_runtime;
  o.accuracy = a.accuracy;
  o.latency_ms = a.latency_ms;
  if (!a.fleet.empty()) o.fleet_key = Must(package::ReadKeyFile(a.fleet, {KeyType::kFleet}));
  for (const std::string& d : a.devices)
    o.devices.push_back(Must(package::ReadKeyFile(d, {KeyType::kDevicePublic})));
  const io::MappedFile model = Must(io::MappedFile::Open(a.model));
  const std::vector<uint8_t> bytes = Must(package::PackModel(model.bytes(), key, o));
  Must(io::WriteFileAtomic(a.output, bytes));
  std::cout << "wrote " << a.output << ": " << FormatBytes(bytes.size()) << ", version " << a.version
            << ", signed by " << key.id()
            << (o.fleet_key ? ", encrypted with fleet key " + o.fleet_key->id()
                : !o.devices.empty() ? ", encrypted for " + std::to_string(o.devices.size()) + " device(s)"
                                     : std::string())
            << "\n";
}

void PrintManifest(const package::VerifiedPackage& v, const package::Key& key) {
  const package::Manifest& m = v.manifest;
  std::cout << "package:     valid, signed by " << key.id() << "\n"
            << "name:        " << m.name << "\n"
            << "version:     " << m.version << " (counter " << m.counter << ")\n"
            << "targets:     ";
  for (size_t i = 0; i < m.targets.size(); ++i) std::cout << (i ? ", " : "") << m.targets[i];
  std::cout << (m.targets.empty() ? "any\n" : "\n")
            << "min runtime: " << m.min_runtime << "\n"
            << "model:       " << FormatBytes(m.model_bytes) << ", BLAKE2b-256 " << m.model_blake2b
            << ", " << m.tensors.size() << " content hashes\n";
  for (const auto& [k, f] : m.figures)
    std::cout << "figure:      " << k << " = " << f.value.dump() << " (" << f.source << ")\n";
  std::cout << "created:     " << m.created << "\n";
  if (m.encryption) {
    std::cout << "encryption:  XChaCha20-Poly1305, ";
    if (!m.encryption->fleet_key.empty()) std::cout << "fleet key " << m.encryption->fleet_key << "\n";
    else {
      std::cout << "sealed to";
      for (const auto& s : m.encryption->sealed_keys) std::cout << " " << s.device;
      std::cout << "\n";
    }
  } else {
    std::cout << "encryption:  none\n";
  }
}

struct VerifyArgs {
  std::string package, key;
  bool json = false;
};

void RunVerify(const VerifyArgs& a) {
  const package::Key key = Must(package::ReadKeyFile(a.key, {KeyType::kSigningPublic}));
  const package::VerifiedPackage v = Must(package::VerifyPackageFile(a.package, key));
  if (a.json) std::cout << nlohmann::json::parse(v.manifest_json).dump(2) << "\n";
  else PrintManifest(v, key);
}

struct UnpackArgs {
  std::string package, key, output, decrypt;
};

void RunUnpack(const UnpackArgs& a) {
  const package::Key key = Must(package::ReadKeyFile(a.key, {KeyType::kSigningPublic}));
  std::optional<package::Key> decrypt;
  if (!a.decrypt.empty())
    decrypt = Must(package::ReadKeyFile(a.decrypt, {KeyType::kFleet, KeyType::kDeviceSecret}));
  const package::UnpackedModel u = Must(package::UnpackPackageFile(
      a.package, key, decrypt ? &*decrypt : nullptr, a.output));
  std::cout << "wrote " << a.output << ": " << u.package.manifest.name << " "
            << u.package.manifest.version << ", " << FormatBytes(u.model.size())
            << ", signature, hashes and model verified\n";
}

}  // namespace

Command AddPackCommand(CLI::App& root) {
  auto a = std::make_shared<PackArgs>();
  CLI::App* app = root.add_subcommand("pack", "Sign (and optionally encrypt) a .opm model into a .opk package");
  app->add_option("model", a->model, ".opm model file")->required();
  app->add_option("--key", a->key, "Signing secret key file (outpost keygen)")->required();
  app->add_option("--version", a->version, "Semantic version of the package, e.g. 1.2.3")->required();
  app->add_option("-o,--output", a->output, "Output .opk file (written atomically)")->required();
  app->add_option("--name", a->name, "Package name (default: the model's name)");
  app->add_option("--counter", a->counter,
                  "Monotonic version counter (default MAJOR*10^12 + MINOR*10^6 + PATCH)");
  app->add_option("--target", a->targets, "Target hardware tag (repeatable)");
  app->add_option("--min-runtime", a->min_runtime, "Minimum runtime version (default: this one)");
  app->add_option("--accuracy", a->accuracy, "Accuracy figure to record (overrides the model's metadata)");
  app->add_option("--latency-ms", a->latency_ms, "Latency figure to record, in ms");
  app->add_option("--encrypt-fleet", a->fleet, "Encrypt the model with this fleet key file");
  app->add_option("--encrypt-for", a->devices, "Encrypt the model for this device public key (repeatable)");
  return {app, [a] { RunPack(*a); }};
}

Command AddVerifyCommand(CLI::App& root) {
  auto a = std::make_shared<VerifyArgs>();
  CLI::App* app = root.add_subcommand("verify", "Check a package's signature and print its manifest");
  app->add_option("package", a->package, ".opk package")->required();
  app->add_option("--key", a->key, "Signing public key file")->required();
  app->add_flag("--json", a->json, "Print the manifest as JSON");
  return {app, [a] { RunVerify(*a); }};
}

Command AddUnpackCommand(CLI::App& root) {
  auto a = std::make_shared<UnpackArgs>();
  CLI::App* app = root.add_subcommand("unpack", "Verify a package and write its model");
  app->add_option("package", a->package, ".opk package")->required();
  app->add_option("--key", a->key, "Signing public key file")->required();
  app->add_option("-o,--output", a->output, "Output .opm file (written atomically)")->required();
  app->add_option("--decrypt", a->decrypt, "Fleet key or device secret key, for encrypted packages");
  return {app, [a] { RunUnpack(*a); }};
}

}  // namespace outpost::cli
