// `parley gguf inspect|synth|quantize` (see gguf_command.cpp).
#pragma once

#include "core/command.hpp"

namespace parley {
void register_gguf_command(CLI::App& app, int& exit_code);
}  // namespace parley
