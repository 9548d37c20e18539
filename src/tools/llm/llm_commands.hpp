// `parley generate`, `parley chat` and `parley bench`: the engine from the terminal.
#pragma once

#include <CLI/CLI.hpp>

namespace parley {
void register_llm_commands(CLI::App& app, int& exit_code);
}  // namespace parley
