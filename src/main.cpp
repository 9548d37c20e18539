// The `parley` command line: one binary, every role (serve, ui, db-api, lm-api) and every tool.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "core/command.hpp"
#include "services/dbapi/dbapi_command.hpp"
#include "services/lmapi/lmapi_command.hpp"
#include "services/serve/serve_command.hpp"
#include "services/ui/ui_command.hpp"
#include "tools/gguf/gguf_command.hpp"
#include "tools/llm/llm_commands.hpp"
#include "tools/loadtest/loadtest_command.hpp"
#include "tools/plan/plan_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Parley: a self-hosted AI chat application", "parley"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "parley 0.1.0");
  int exit_code = 0;

  // Each register_*_command adds one subcommand (see core/command.hpp).
  for (parley::RegisterCommand reg : std::initializer_list<parley::RegisterCommand>{
           parley::register_gguf_command,
           parley::register_dbapi_command,
           parley::register_llm_commands,
           parley::services::lmapi::register_lmapi_command,
           parley::register_ui_command,
           parley::register_serve_command,
           parley::register_loadtest_command,
           parley::register_plan_command,
       }) reg(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
