// outpost keygen: key files for packages. A signing pair (NAME.key, NAME.pub), a device's
// encryption pair (--device: X25519), or a fleet's symmetric content key (--fleet: NAME.key).
// Secret keys are created mode 0600, never replace an existing file, and are never printed.
#include <cstdio>
#include <iostream>
#include <memory>

#include "package/keys.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"

namespace outpost::cli {
namespace {

struct KeygenArgs {
  std::string output;
  bool device = false;
  bool fleet = false;
};

void RunKeygen(const KeygenArgs& a) {
  if (a.device && a.fleet) throw UsageError("--device and --fleet exclude each other");
  const std::string secret_path = a.output + ".key";
  const std::string public_path = a.output + ".pub";
  if (a.fleet) {
    const package::Key key = package::GenerateFleetKey();
    Must(package::WriteKeyFile(secret_path, key));
    std::cout << "wrote " << secret_path << " (fleet key " << key.id() << ", mode 0600)\n";
    return;
  }
  const package::KeyPair pair =
      a.device ? package::GenerateDeviceKeyPair() : package::GenerateSigningKeyPair();
  // The public half first: if it cannot be written, no orphan secret key is left behind.
  Must(package::WriteKeyFile(public_path, pair.public_key));
  if (Expected<Unit> w = package::WriteKeyFile(secret_path, pair.secret); !w) {
    std::remove(public_path.c_str());
    throw w.error();
  }
  std::cout << "wrote " << secret_path << " (secret, mode 0600) and " << public_path << ": "
            << (a.device ? "device encryption" : "signing") << " key " << pair.public_key.id() << "\n";
}

}  // namespace

Command AddKeygenCommand(CLI::App& root) {
  auto args = std::make_shared<KeygenArgs>();
  CLI::App* app = root.add_subcommand("keygen", "Create package keys: signing pair, device pair or fleet key");
  app->add_option("-o,--output", args->output, "Key file name without extension (writes NAME.key, NAME.pub)")
      ->required();
  app->add_flag("--device", args->device, "An X25519 pair that packages can be encrypted for");
  app->add_flag("--fleet", args->fleet, "A symmetric fleet key (NAME.key only)");
  return {app, [args] { RunKeygen(*args); }};
}

}  // namespace outpost::cli
