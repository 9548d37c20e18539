#include "services/ui/ui_command.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "core/config.hpp"
#include "core/logging.hpp"
#include "net/client.hpp"
#include "net/event_loop.hpp"
#include "net/server.hpp"
#include "services/openai/openai_generator.hpp"
#include "services/ui/generation_limit_options.hpp"
#include "services/ui/ui_service.hpp"
#include "store/dbapi_client.hpp"

namespace parley::services::ui {
namespace {

struct UiArgs {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string db_api;
  std::string lm_api;
  std::string lm_api_key;
  bool lm_affinity = true;
  std::string model;
  int threads = 0;
  UiOptions limits;  // the generation limits (generation_limit_options.hpp)
  int64_t max_tokens = 0;
  std::string tls_cert, tls_key;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!part.empty() && part.back() == ' ') part.pop_back();
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int run_ui(const UiArgs& a) {
  setup_logging(log_options_from_env());
  auto keys = session_keys_from_environment();
  if (!keys) {
    std::fprintf(stderr,
                 "parley ui: SESSION_KEY is not set. The UI seals session cookies with it and every replica "
                 "must share it, so there is no default; set it to a long random secret, e.g. "
                 "SESSION_KEY=$(openssl rand -hex 32) (rotate with SESSION_KEYS=new,old).\n");
    return 2;
  }
  if (!*keys) {
    std::fprintf(stderr, "parley ui: %s\n", keys->error().message.c_str());
    return 2;
  }
  auto token = env("PARLEY_SERVICE_TOKEN");
  if (!token) {
    std::fprintf(stderr, "parley ui: PARLEY_SERVICE_TOKEN is not set; db-api (and lm-api) require it.\n");
    return 2;
  }
  std::string db_api = flag_env_default(a.db_api.empty() ? std::nullopt : std::optional(a.db_api), "DB_API_URL", "");
  std::string lm_api = flag_env_default(a.lm_api.empty() ? std::nullopt : std::optional(a.lm_api), "LM_API_URL", "");
  if (db_api.empty() || lm_api.empty()) {
    std::fprintf(stderr, "parley ui: need --db-api URL (DB_API_URL) and --lm-api URL (LM_API_URL)\n");
    return 2;
  }

  int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  net::EventLoop loop(threads);
  net::HttpClient client(loop);
  store::DbApiChatStore store(client, store::DbApiClientOptions{.base_url = db_api, .service_token = *token});
  OpenAiGeneratorOptions gen_options;
  gen_options.endpoints = split_commas(lm_api);
  gen_options.api_key = a.lm_api_key.empty() ? env_string("LM_API_KEY", *token) : a.lm_api_key;
  gen_options.model = a.model;
  gen_options.affinity = a.lm_affinity;
  OpenAiGenerator generator(client, gen_options);

  UiOptions ui_options = a.limits;
  if (a.max_tokens > 0) ui_options.max_tokens = a.max_tokens;
  UiService ui(store, generator, SessionSealer(std::move(**keys)), ui_options);
  net::Router router;
  ui.add_routes(router);

  net::ServerOptions options;
  options.name = "ui";
  options.host = a.host;
  options.port = static_cast<uint16_t>(a.port);
  options.threads = threads;
  options.body_limit = 512 * 1024;
  options.drain_timeout = env_duration("PARLEY_DRAIN_TIMEOUT", std::chrono::seconds(30));
  options.tls_cert_file = a.tls_cert;
  options.tls_key_file = a.tls_key;
  net::Server server(loop, options, std::move(router));
  server.set_readiness(ui.readiness());
  int rc = net::run_until_signal(loop, {&server}, [&] {
    spdlog::info("ui listening on {}:{} db-api={} lm-api={}", a.host, server.port(), db_api, lm_api);
  });
  loop.stop();
  flush_logs();
  return rc;
}

}  // namespace

std::optional<Result<SessionKeys>> session_keys_from_environment() {
  auto secrets = first_env({"SESSION_KEYS", "SESSION_KEY"});
  if (!secrets) return std::nullopt;
  return SessionKeys::parse(*secrets);
}

void register_ui_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<UiArgs>();
  CLI::App* cmd = app.add_subcommand("ui", "Serve the web UI over db-api and lm-api (needs SESSION_KEY)");
  cmd->add_option("--host", a->host, "Address to listen on")->envname("UI_HOST")->capture_default_str();
  cmd->add_option("--port", a->port, "Port to listen on")->envname("UI_PORT")->capture_default_str();
  cmd->add_option("--db-api", a->db_api, "db-api base URL (DB_API_URL)");
  cmd->add_option("--lm-api", a->lm_api,
                  "OpenAI-compatible base URL(s), comma-separated; dns+http://name:port = every address of name (LM_API_URL)");
  cmd->add_option("--lm-affinity", a->lm_affinity, "Send each chat to the replica holding its prefix (on|off)")
      ->envname("LM_API_AFFINITY")->capture_default_str();
  cmd->add_option("--lm-api-key", a->lm_api_key, "Bearer key for lm-api (default: LM_API_KEY, PARLEY_SERVICE_TOKEN)");
  cmd->add_option("--model", a->model, "The \"model\" field sent upstream (some servers need one)");
  cmd->add_option("--threads", a->threads, "Event loop threads (0: one per CPU)")->capture_default_str();
  add_generation_limit_options(cmd, a->limits);
  cmd->add_option("--max-tokens", a->max_tokens, "Longest reply in tokens (0: the model server's default)");
  cmd->add_option("--tls-cert", a->tls_cert, "PEM certificate (with --tls-key: serve HTTPS)");
  cmd->add_option("--tls-key", a->tls_key, "PEM private key");
  cmd->callback([a, &exit_code] { exit_code = run_ui(*a); });
}

}  // namespace parley::services::ui
