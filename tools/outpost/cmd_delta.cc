// outpost diff / patch: differential updates between two packages (docs/package-format.md,
// "Differential updates"; the delta itself: docs/delta-format.md).
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "io/mapped_file.h"
#include "package/package_delta.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"

namespace outpost::cli {
namespace {

using package::KeyType;

struct DeltaArgs {
  std::string old_package, second, output, key, decrypt;
  int level = 19;
};

// "4.21%": two decimals, since a good delta is a few percent of the package.
std::string Percent(uint64_t part, uint64_t whole) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f%%", whole ? 100.0 * part / whole : 0.0);
  return text;
}

std::optional<package::Key> DecryptionKey(const std::string& path) {
  if (path.empty()) return std::nullopt;
  return Must(package::ReadKeyFile(path, {KeyType::kFleet, KeyType::kDeviceSecret}));
}

void RunDiff(const DeltaArgs& a) {
  if (a.level < 1 || a.level > 22) throw UsageError("--level must be 1 to 22 (zstd levels)");
  const package::Key key = Must(package::ReadKeyFile(a.key, {KeyType::kSigningPublic}));
  const std::optional<package::Key> decrypt = DecryptionKey(a.decrypt);
  const io::MappedFile old_file = Must(io::MappedFile::Open(a.old_package));
  const io::MappedFile new_file = Must(io::MappedFile::Open(a.second));
  const std::vector<uint8_t> delta = Must(package::MakePackageDelta(
      old_file.bytes(), new_file.bytes(), key, decrypt ? &*decrypt : nullptr, a.level));
  Must(io::WriteFileAtomic(a.output, delta));
  const package::DeltaInfo info = Must(package::ReadModelDeltaInfo(delta));
  std::cout << "wrote " << a.output << ": " << FormatBytes(delta.size()) << ", "
            << Percent(delta.size(), new_file.bytes().size()) << " of the new package (" << FormatBytes(new_file.bytes().size()) << "); "
            << info.tensors_sent << " tensor(s) sent, " << info.tensors_copied
            << " copied from the old package\n";
}

void RunPatch(const DeltaArgs& a) {
  const package::Key key = Must(package::ReadKeyFile(a.key, {KeyType::kSigningPublic}));
  const std::optional<package::Key> decrypt = DecryptionKey(a.decrypt);
  const io::MappedFile old_file = Must(io::MappedFile::Open(a.old_package));
  const io::MappedFile delta = Must(io::MappedFile::Open(a.second));
  const package::PatchedPackage p = Must(package::ApplyPackageDelta(
      old_file.bytes(), delta.bytes(), key, decrypt ? &*decrypt : nullptr));
  // Written only now: the rebuilt package has passed the same verification as a download.
  Must(io::WriteFileAtomic(a.output, p.bytes));
  std::cout << "wrote " << a.output << ": " << p.unpacked.package.manifest.name << " "
            << p.unpacked.package.manifest.version << ", " << FormatBytes(p.bytes.size())
            << ", signature, hashes and model verified\n";
}

void AddCommon(CLI::App* app, DeltaArgs& a) {
  app->add_option("--key", a.key, "Signing public key file: both packages must verify with it")
      ->required();
  app->add_option("--decrypt", a.decrypt,
                  "Fleet key or device secret key, for encrypted packages");
  app->add_option("-o,--output", a.output, "Output file (written atomically)")->required();
}

}  // namespace

Command AddDiffCommand(CLI::App& root) {
  auto a = std::make_shared<DeltaArgs>();
  CLI::App* app = root.add_subcommand(
      "diff", "Write a delta that turns one package into another (only changed tensors)");
  app->add_option("old", a->old_package, "The package a device holds (.opk)")->required();
  app->add_option("new", a->second, "The package to deliver (.opk)")->required();
  AddCommon(app, *a);
  app->add_option("--level", a->level, "zstd compression level, 1-22 (default 19)");
  return {app, [a] { RunDiff(*a); }};
}

Command AddPatchCommand(CLI::App& root) {
  auto a = std::make_shared<DeltaArgs>();
  CLI::App* app = root.add_subcommand(
      "patch", "Rebuild the new package from the old one and a delta, verified before writing");
  app->add_option("old", a->old_package, "The package the delta was made from (.opk)")->required();
  app->add_option("delta", a->second, "Delta from outpost diff")->required();
  AddCommon(app, *a);
  return {app, [a] { RunPatch(*a); }};
}

}  // namespace outpost::cli
