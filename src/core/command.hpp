// How a subcommand of the `parley` command line plugs in: each role or tool has a
// register_*_command(CLI::App&, int& exit_code) that adds its subcommand, its options and a
// callback that runs it and stores the process exit code. src/main.cpp calls them all.
#pragma once

#include <CLI/CLI.hpp>

namespace parley {
using RegisterCommand = void (*)(CLI::App& app, int& exit_code);
}  // namespace parley
