// The command-line flags (and their environment variables) of the UI's generation limits, shared by
// `parley ui` and `parley serve` (flag, then environment, then the UiOptions default):
//
//   --max-generations-per-session  PARLEY_MAX_GENERATIONS_PER_SESSION  concurrent replies of a session (429)
//   --generations-per-minute       PARLEY_GENERATIONS_PER_MINUTE       replies a session starts per minute (429)
//   --generation-burst             PARLEY_GENERATION_BURST             ... back to back before that rate applies
//   --max-streams                  PARLEY_MAX_STREAMS                  concurrent replies of this replica (503)
#pragma once

#include <CLI/CLI.hpp>

#include "services/ui/ui_service.hpp"

namespace parley::services::ui {

// Registers the flags on `cmd`; parsed values land in `options` (which must outlive parsing). A value
// out of range is a usage error (CLI11 prints it and the command exits 2 without starting).
void add_generation_limit_options(CLI::App* cmd, UiOptions& options);

}  // namespace parley::services::ui
