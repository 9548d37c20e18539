// `parley lm-api`: the OpenAI-compatible language-model API over the in-process engine.
#pragma once

#include <CLI/CLI.hpp>

namespace parley::services::lmapi {
void register_lmapi_command(CLI::App& app, int& exit_code);
}  // namespace parley::services::lmapi
