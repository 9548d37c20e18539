#include "services/serve/serve_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "core/config.hpp"
#include "core/logging.hpp"
#include "llm/runtime/local_generator.hpp"
#include "net/event_loop.hpp"
#include "net/server.hpp"
#include "services/ui/generation_limit_options.hpp"
#include "services/ui/ui_command.hpp"
#include "services/ui/ui_service.hpp"
#include "store/open_store.hpp"

namespace parley::services::serve {
namespace {

struct ServeArgs {
  std::string model;
  std::string database;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string data_dir = "./data";
  int64_t ctx = 4096;
  int slots = 8;
  int threads = 0;
  int http_threads = 2;
  int64_t max_tokens = 1024;
  std::string chat_template;
  ui::UiOptions limits;  // the generation limits (ui/generation_limit_options.hpp)
};

int run_serve(const ServeArgs& a) {
  setup_logging(log_options_from_env());
  std::string model = a.model.empty() ? env_string("PARLEY_MODEL", "") : a.model;
  if (model.empty()) {
    std::fprintf(stderr, "parley serve: no model: pass --model FILE.gguf (or set PARLEY_MODEL)\n");
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(a.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "parley serve: cannot create the data directory %s: %s\n", a.data_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  std::optional<Result<ui::SessionKeys>> keys = ui::session_keys_from_environment();
  if (!keys) {
    auto secret = load_or_create_session_secret(a.data_dir);
    if (!secret) {
      std::fprintf(stderr, "parley serve: %s\n", secret.error().message.c_str());
      return 2;
    }
    keys = ui::SessionKeys::parse(*secret);
  }
  if (!*keys) {
    std::fprintf(stderr, "parley serve: %s\n", keys->error().message.c_str());
    return 2;
  }

  std::string database = a.database.empty() ? env_string("PARLEY_DATABASE", "") : a.database;
  if (database.empty()) database = "sqlite:" + (std::filesystem::path(a.data_dir) / "parley.db").string();

  llm::LocalGeneratorOptions gen_options;
  gen_options.engine.threads = a.threads;
  gen_options.engine.ctx = a.ctx;
  gen_options.engine.slots = a.slots;
  gen_options.chat_template = a.chat_template;
  gen_options.default_max_tokens = a.max_tokens;
  net::EventLoop loop(a.http_threads);  // before the generator: destroyed after it (see lm-api)
  std::unique_ptr<llm::LocalGenerator> generator;
  try {
    generator = llm::LocalGenerator::open(model, gen_options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley serve: cannot load the model %s: %s\n", model.c_str(), e.what());
    return 2;
  }

  auto opened = store::open_chat_store(database, loop.context().get_executor());
  if (!opened) {
    std::fprintf(stderr, "parley serve: %s\n", opened.error().message.c_str());
    return 2;
  }

  ui::UiOptions ui_options = a.limits;
  ui::UiService ui(*opened->store, *generator, ui::SessionSealer(std::move(**keys)), ui_options);
  net::Router router;
  ui.add_routes(router);
  net::ServerOptions options;
  options.name = "parley";
  options.host = a.host;
  options.port = static_cast<uint16_t>(a.port);
  options.body_limit = 512 * 1024;
  options.drain_timeout = env_duration("PARLEY_DRAIN_TIMEOUT", std::chrono::seconds(30));
  net::Server server(loop, options, std::move(router));
  server.set_readiness(ui.readiness());
  int rc = net::run_until_signal(loop, {&server}, [&] {
    spdlog::info("parley serve: http://{}:{}/ model={} database={} data_dir={}", a.host, server.port(),
                 generator->model_name(), opened->description, a.data_dir);
  });
  loop.stop();
  flush_logs();
  return rc;
}

}  // namespace

Result<std::string> load_or_create_session_secret(const std::string& data_dir) {
  std::filesystem::path path = std::filesystem::path(data_dir) / "session.key";
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    std::string secret = ui::SessionKeys::generate_secret() + "\n";
    bool ok = ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok) return make_error(ErrorCode::unavailable, "cannot write the session key " + path.string());
    secret.pop_back();
    return secret;
  }
  if (errno != EEXIST)
    return make_error(ErrorCode::unavailable,
                      "cannot create the session key " + path.string() + ": " + std::strerror(errno));
  std::ifstream in(path);
  std::string secret;
  if (!in || !std::getline(in, secret) || secret.empty())
    return make_error(ErrorCode::unavailable, "cannot read the session key " + path.string());
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    spdlog::warn("parley serve: {} is readable by other users (chmod 600 it)", path.string());
  return secret;
}

void register_serve_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the whole app (UI + store + engine) in one process");
  cmd->add_option("-m,--model", a->model, "GGUF model file")->envname("PARLEY_MODEL");
  cmd->add_option("--database", a->database, "sqlite:PATH or postgres://... (default: sqlite in the data dir)")
      ->envname("PARLEY_DATABASE");
  cmd->add_option("--host", a->host, "Address to listen on")->envname("PARLEY_HOST")->capture_default_str();
  cmd->add_option("--port", a->port, "Port to listen on")->envname("PARLEY_PORT")->capture_default_str();
  cmd->add_option("--data-dir", a->data_dir, "Where the SQLite file and the session key live")
      ->envname("PARLEY_DATA_DIR")->capture_default_str();
  cmd->add_option("--ctx", a->ctx, "Most tokens of one conversation (prompt + reply)")->capture_default_str();
  cmd->add_option("--slots", a->slots, "Replies generated together")->capture_default_str();
  cmd->add_option("--threads", a->threads, "Compute threads (0: physical cores)")->capture_default_str();
  cmd->add_option("--http-threads", a->http_threads, "HTTP event-loop threads")->capture_default_str();
  cmd->add_option("--max-tokens", a->max_tokens, "Longest reply in tokens")->capture_default_str();
  cmd->add_option("--chat-template", a->chat_template, "Built-in chat template instead of the model's own");
  ui::add_generation_limit_options(cmd, a->limits);
  cmd->callback([a, &exit_code] { exit_code = run_serve(*a); });
}

}  // namespace parley::services::serve
