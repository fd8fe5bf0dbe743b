// --prepack of `outpost compile` and `outpost quantize`: which instruction set's packed weight
// layouts to cache in the model (compiler/emit/prepack.h).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "compiler/emit/prepack.h"

namespace outpost::cli {

void AddPrepackOption(CLI::App* app, std::string* value);
// Throws UsageError for an unknown value or a target this host cannot pack for.
emit::PrepackTarget ParsePrepack(const std::string& value);
// One summary line: what was cached and what it added to the file.
void PrintPrepack(const emit::PrepackTarget& target, const emit::PrepackResult& result);

}  // namespace outpost::cli
