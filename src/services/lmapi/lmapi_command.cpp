#include "services/lmapi/lmapi_command.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

#include "core/config.hpp"
#include "core/logging.hpp"
#include "core/metrics.hpp"
#include "llm/runtime/local_generator.hpp"
#include "net/event_loop.hpp"
#include "net/server.hpp"
#include "services/lmapi/lmapi_routes.hpp"

namespace parley::services::lmapi {
namespace {

struct LmApiArgs {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8082;
  int64_t ctx = 4096;
  int slots = 8;
  int queue = 64;
  int threads = 0;
  int http_threads = 1;
  int64_t kv_tokens = 0;
  int64_t step_tokens = 512;
  std::string api_key;
  std::string chat_template;
};

int run_lmapi(const LmApiArgs& a) {
  setup_logging(log_options_from_env());
  std::string model = a.model.empty() ? env_string("PARLEY_MODEL", "") : a.model;
  if (model.empty()) {
    std::fprintf(stderr, "parley lm-api: no model: pass --model FILE.gguf (or set PARLEY_MODEL)\n");
    return 2;
  }
  std::string key = a.api_key.empty() ? env_string("PARLEY_SERVICE_TOKEN", "") : a.api_key;
  llm::LocalGeneratorOptions opt;
  opt.engine.threads = a.threads;
  opt.engine.ctx = a.ctx;
  opt.engine.slots = a.slots;
  opt.engine.queue = a.queue;
  opt.engine.kv_tokens = a.kv_tokens;
  opt.engine.step_tokens = a.step_tokens;
  opt.chat_template = a.chat_template;
  // The loop is declared before the generator so that it is destroyed after it: the engine's
  // thread must be gone before the loop destroys the coroutines of unfinished streams (a wake-up
  // from the engine into a channel whose io_context is being destroyed crashed).
  net::EventLoop loop(a.http_threads);
  std::unique_ptr<llm::LocalGenerator> gen;
  try {
    gen = llm::LocalGenerator::open(model, opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley lm-api: cannot load %s: %s\n", model.c_str(), e.what());
    return 2;
  }
  if (key.empty())
    spdlog::warn("lm-api: no API key (--api-key or PARLEY_SERVICE_TOKEN): serving anyone who can reach {}:{}", a.host,
                 a.port);

  LmApi api(*gen, key, Metrics::global());
  net::Router router;
  api.add_routes(router);
  net::ServerOptions options;
  options.name = "lm-api";
  options.host = a.host;
  options.port = static_cast<uint16_t>(a.port);
  options.body_limit = 8 * 1024 * 1024;
  options.write_timeout = std::chrono::seconds(30);
  options.drain_timeout = env_duration("PARLEY_DRAIN_TIMEOUT", std::chrono::seconds(30));
  net::Server server(loop, options, std::move(router));
  server.set_readiness([&api]() { return api.readiness(); });
  const auto& hp = gen->engine().model().hparams();
  int rc = net::run_until_signal(loop, {&server}, [&] {
    spdlog::info("lm-api listening on {}:{} model={} ({} layers, vocab {}) template={} ctx={} slots={} queue={}",
                 a.host, server.port(), gen->model_name(), hp.n_layer, hp.n_vocab, gen->chat_template().name,
                 gen->context_length(), a.slots, a.queue);
  });
  loop.stop();
  flush_logs();
  return rc;
}

}  // namespace

void register_lmapi_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<LmApiArgs>();
  CLI::App* cmd = app.add_subcommand("lm-api", "Serve the OpenAI-compatible language-model API (continuous batching)");
  cmd->add_option("-m,--model", a->model, "GGUF model file")->envname("PARLEY_MODEL");
  cmd->add_option("--host", a->host, "Address to listen on")->envname("LM_API_HOST")->capture_default_str();
  cmd->add_option("--port", a->port, "Port to listen on")->envname("LM_API_PORT")->capture_default_str();
  cmd->add_option("--ctx", a->ctx, "Most tokens of one request (prompt + output)")->capture_default_str();
  cmd->add_option("--slots", a->slots, "Sequences decoding together")->capture_default_str();
  cmd->add_option("--queue", a->queue, "Requests that may wait beyond the slots (then 503)")->capture_default_str();
  cmd->add_option("--threads", a->threads, "Compute threads (0: physical cores)")->capture_default_str();
  cmd->add_option("--http-threads", a->http_threads, "HTTP event-loop threads")->capture_default_str();
  cmd->add_option("--kv-tokens", a->kv_tokens, "KV pool size in tokens shared by all slots (0: ctx x slots)")
      ->capture_default_str();
  cmd->add_option("--step-tokens", a->step_tokens, "Most tokens per forward pass (decode + prompt chunks)")
      ->capture_default_str();
  cmd->add_option("--api-key", a->api_key, "Bearer token every request must carry (default: PARLEY_SERVICE_TOKEN)");
  cmd->add_option("--chat-template", a->chat_template, "Built-in chat template instead of the model's own");
  cmd->callback([a, &exit_code] { exit_code = run_lmapi(*a); });
}

}  // namespace parley::services::lmapi
