#include "tools/llm/llm_commands.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "llm/runtime/local_generator.hpp"
#include "tools/llm/bench.hpp"

namespace parley {
namespace {
namespace asio = boost::asio;

struct GenerateOptions {
  std::string model, prompt, chat_template;
  int64_t n = 128;
  double temp = 0.0;
  int64_t seed = -1;
  int threads = 0;
  int64_t ctx = 4096;
};

// Streams one generation to stdout; returns the summary.
llm::GenerationSummary stream_to_stdout(llm::LocalGenerator& gen, llm::GenerationInput in, std::string* transcript) {
  asio::io_context io;
  llm::GenerationSummary summary;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto s = co_await gen.generate(std::move(in));
        if (!s) {
          summary.finish_reason = "error";
          summary.error = s.error().message;
          co_return;
        }
        while (auto piece = co_await (*s)->next()) {
          std::fwrite(piece->data(), 1, piece->size(), stdout);
          std::fflush(stdout);
          if (transcript) *transcript += *piece;
        }
        summary = (*s)->summary();
      },
      asio::detached);
  io.run();
  return summary;
}

llm::LocalGeneratorOptions generator_options(const GenerateOptions& o) {
  llm::LocalGeneratorOptions g;
  g.engine.threads = o.threads;
  g.engine.ctx = o.ctx;
  g.engine.slots = 1;
  g.engine.queue = 0;
  g.chat_template = o.chat_template;
  return g;
}

int run_generate(const GenerateOptions& o) {
  auto gen = llm::LocalGenerator::open(o.model, generator_options(o));
  llm::GenerationInput in;
  in.prompt = o.prompt;
  in.options.max_tokens = o.n;
  in.options.temperature = o.temp;
  if (o.seed >= 0) in.options.seed = static_cast<uint64_t>(o.seed);
  std::fwrite(o.prompt.data(), 1, o.prompt.size(), stdout);
  auto s = stream_to_stdout(*gen, std::move(in), nullptr);
  std::printf("\n");
  if (s.finish_reason == "error") {
    std::fprintf(stderr, "parley generate: %s\n", s.error.c_str());
    return 1;
  }
  std::fprintf(stderr, "[%lld prompt tokens, %lld generated, finish: %s]\n", static_cast<long long>(s.prompt_tokens),
               static_cast<long long>(s.completion_tokens), s.finish_reason.c_str());
  return 0;
}

int run_chat(const GenerateOptions& o, const std::string& system) {
  auto gen = llm::LocalGenerator::open(o.model, generator_options(o));
  std::fprintf(stderr, "parley chat: %s (template %s). Empty line or Ctrl-D to quit.\n", gen->model_name().c_str(),
               gen->chat_template().name.c_str());
  std::vector<llm::ChatTurn> history;
  if (!system.empty()) history.push_back({"system", system});
  std::string line;
  for (;;) {
    std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line) || line.empty()) break;
    history.push_back({"user", line});
    llm::GenerationInput in;
    in.messages = history;
    in.truncate_history = true;
    in.options.temperature = o.temp;
    in.options.max_tokens = o.n;
    if (o.seed >= 0) in.options.seed = static_cast<uint64_t>(o.seed);
    std::string reply;
    auto s = stream_to_stdout(*gen, std::move(in), &reply);
    std::printf("\n");
    if (s.finish_reason == "error") {
      std::fprintf(stderr, "error: %s\n", s.error.c_str());
      history.pop_back();
      continue;
    }
    history.push_back({"assistant", reply});
  }
  return 0;
}

void add_common(CLI::App* cmd, GenerateOptions& o) {
  cmd->add_option("-m,--model", o.model, "GGUF model file")->required()->check(CLI::ExistingFile);
  cmd->add_option("-n,--max-tokens", o.n, "tokens to generate")->capture_default_str();
  cmd->add_option("--temp", o.temp, "temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--seed", o.seed, "sampling seed (default: random)");
  cmd->add_option("-t,--threads", o.threads, "compute threads (0: physical cores)")->capture_default_str();
  cmd->add_option("--ctx", o.ctx, "context length in tokens")->capture_default_str();
  cmd->add_option("--chat-template", o.chat_template, "built-in chat template to use instead of the model's");
}

void guarded(int& exit_code, const std::function<int()>& fn, const char* name) {
  try {
    exit_code = fn();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley %s: %s\n", name, e.what());
    exit_code = 1;
  }
}

}  // namespace

void register_llm_commands(CLI::App& app, int& exit_code) {
  auto gen_opts = std::make_shared<GenerateOptions>();
  auto* gen = app.add_subcommand("generate", "Complete a raw text prompt with a model (greedy at --temp 0)");
  add_common(gen, *gen_opts);
  gen->add_option("-p,--prompt", gen_opts->prompt, "the text to complete")->required();
  gen->callback([gen_opts, &exit_code] { guarded(exit_code, [&] { return run_generate(*gen_opts); }, "generate"); });

  auto chat_opts = std::make_shared<GenerateOptions>();
  auto system = std::make_shared<std::string>();
  chat_opts->temp = 0.7;
  chat_opts->n = 512;
  auto* chat = app.add_subcommand("chat", "Chat with a model in the terminal, through its chat template");
  add_common(chat, *chat_opts);
  chat->add_option("--system", *system, "system prompt");
  chat->callback([chat_opts, system, &exit_code] {
    guarded(exit_code, [&] { return run_chat(*chat_opts, *system); }, "chat");
  });

  auto bench_opts = std::make_shared<tools::BenchOptions>();
  auto* bench = app.add_subcommand("bench", "Prompt-processing and generation speed, and the memory-bandwidth bound");
  bench->add_option("-m,--model", bench_opts->model, "GGUF model file")->required()->check(CLI::ExistingFile);
  bench->add_option("-p,--prompt-tokens", bench_opts->prompt_tokens, "prompt length")->capture_default_str();
  bench->add_option("-n,--gen-tokens", bench_opts->gen_tokens, "tokens generated")->capture_default_str();
  bench->add_option("-t,--threads", bench_opts->threads, "compute threads")->capture_default_str();
  bench->add_option("-r,--repetitions", bench_opts->repetitions, "runs of each test (median reported)")->capture_default_str();
  bench->add_option("--batch", bench_opts->batch, "sequences decoding together (aggregate tokens/s)")->capture_default_str();
  bench->add_option("--chunk", bench_opts->chunk, "prompt tokens per forward pass")->capture_default_str();
  bench->add_flag("--no-bandwidth", bench_opts->skip_bandwidth, "skip the memory-bandwidth probe");
  bench->add_option("--json", bench_opts->json, "also write the results as JSON to this file");
  bench->callback([bench_opts, &exit_code] { guarded(exit_code, [&] { return tools::run_bench(*bench_opts); }, "bench"); });
}

}  // namespace parley
