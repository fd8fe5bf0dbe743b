// The subcommands of `outpost`. Each Add*Command registers its options on the root app and
// returns the work to do when that subcommand was chosen; the work reports failure by throwing
// outpost::Error (exit 1) or UsageError (exit 2), which main() turns into one line on stderr.
#pragma once

#include <functional>

#include "CLI/CLI.hpp"

namespace outpost::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<void()> run;
};

Command AddCompileCommand(CLI::App& root);
Command AddInspectCommand(CLI::App& root);
Command AddRunCommand(CLI::App& root);
Command AddBenchCommand(CLI::App& root);
Command AddEvalCommand(CLI::App& root);
Command AddQuantizeCommand(CLI::App& root);
Command AddPruneCommand(CLI::App& root);
Command AddOptimizeCommand(CLI::App& root);
Command AddExportCommand(CLI::App& root);
Command AddExportCCommand(CLI::App& root);
Command AddKeygenCommand(CLI::App& root);
Command AddPackCommand(CLI::App& root);
Command AddVerifyCommand(CLI::App& root);
Command AddUnpackCommand(CLI::App& root);
Command AddDiffCommand(CLI::App& root);
Command AddPatchCommand(CLI::App& root);
Command AddFleetCommand(CLI::App& root);
Command AddAgentCommand(CLI::App& root);
Command AddPlanCommand(CLI::App& root);
Command AddDecideCommand(CLI::App& root);
Command AddCostCommand(CLI::App& root);

}  // namespace outpost::cli
