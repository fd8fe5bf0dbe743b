// outpost: one command-line tool for the whole model flow. Results go to stdout; progress and
// diagnostics to stderr. Exit codes: 0 success, 1 error, 2 usage error. Every failure is one
// line "outpost: error: ..." on stderr.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "common/expected.h"
#include "tools/outpost/cli_util.h"
#include "tools/outpost/commands.h"

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

int Run(int argc, char** argv) {
  CLI::App app("outpost: compile, quantize, inspect, run, benchmark, evaluate, export and package edge models",
               "outpost");
  app.set_version_flag("--version", "outpost " OUTPOST_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  app.footer(
      "Run 'outpost COMMAND --help' for the options of a command. Exit codes: 0 success, "
      "1 error, 2 usage error.");

  std::vector<outpost::cli::Command> commands = {
      outpost::cli::AddCompileCommand(app), outpost::cli::AddInspectCommand(app),
      outpost::cli::AddRunCommand(app),     outpost::cli::AddBenchCommand(app),
      outpost::cli::AddEvalCommand(app),    outpost::cli::AddQuantizeCommand(app),
      outpost::cli::AddPruneCommand(app),   outpost::cli::AddOptimizeCommand(app),
      outpost::cli::AddExportCommand(app),  outpost::cli::AddExportCCommand(app),
      outpost::cli::AddKeygenCommand(app),
      outpost::cli::AddPackCommand(app),    outpost::cli::AddVerifyCommand(app),
      outpost::cli::AddUnpackCommand(app),  outpost::cli::AddDiffCommand(app),
      outpost::cli::AddPatchCommand(app),   outpost::cli::AddFleetCommand(app),
      outpost::cli::AddAgentCommand(app),   outpost::cli::AddPlanCommand(app),
      outpost::cli::AddDecideCommand(app),
      outpost::cli::AddCostCommand(app),
  };

  if (argc <= 1) {
    std::cerr << app.help();
    return kExitUsage;
  }
  const std::string first = argv[1];
  const bool known = std::any_of(commands.begin(), commands.end(),
                                 [&](const auto& c) { return c.app->get_name() == first; });
  if (first[0] != '-' && !known) {
    outpost::cli::PrintError("unknown command '" + first +
                             "' (commands: compile, quantize, inspect, run, bench, eval, export, export-c, keygen, pack, verify, unpack, diff, patch, fleet, agent, plan, decide, cost)");
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: printed to stdout
    std::string where = "outpost";
    for (const CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    outpost::cli::PrintError(std::string(e.what()) + " (see '" + where + " --help')");
    return kExitUsage;
  }

  for (const outpost::cli::Command& c : commands) {
    if (!c.app->parsed()) continue;
    try {
      c.run();
      std::cout.flush();
      if (!std::cout) {
        outpost::cli::PrintError("cannot write to standard output");
        return kExitError;
      }
      return 0;
    } catch (const outpost::cli::UsageError& e) {
      outpost::cli::PrintError(std::string(e.what()) + " (see 'outpost " + c.app->get_name() +
                               " --help')");
      return kExitUsage;
    }
  }
  outpost::cli::PrintError("no command given (see 'outpost --help')");
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // Errors thrown anywhere below end up here: one line, a non-zero exit, never a crash.
  try {
    return Run(argc, argv);
  } catch (const outpost::Error& e) {
    outpost::cli::PrintError(e.what());
  } catch (const std::bad_alloc&) {
    outpost::cli::PrintError("out of memory");
  } catch (const std::exception& e) {
    outpost::cli::PrintError(std::string("internal error: ") + e.what());
  } catch (...) {
    outpost::cli::PrintError("internal error: unknown exception");
  }
  return kExitError;
}
