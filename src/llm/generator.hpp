// Generator: the seam between the UI and whatever produces replies (docs/architecture.md).
// It turns chat messages (or a raw prompt) and sampling options into a cancellable stream of text
// pieces with a finish reason and token counts.
//
// Implementations:
//   - llm::LocalGenerator (llm/runtime/local_generator.hpp): the in-process engine (`parley serve`).
//   - services::OpenAiGenerator (services/openai/): an OpenAI-protocol HTTP client of lm-api, or of
//     any OpenAI-compatible server (llama.cpp server, vLLM, TGI, Ollama).
//
//   auto started = co_await generator.generate(std::move(input));
//   if (!started) { /* unavailable: busy or down (retry later); invalid_argument: too long */ }
//   auto& stream = **started;
//   while (auto piece = co_await stream.next()) send(*piece);   // valid UTF-8, never empty
//   const GenerationSummary& s = stream.summary();               // finish reason, token counts
//
// Cancelling (stream.cancel(), or destroying the stream) stops the generation within one engine
// step and frees its slot; next() then returns nullopt with finish_reason "cancelled".
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace parley::llm {

struct ChatTurn {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// Unset fields take the generator's defaults.
struct GenerationOptions {
  std::optional<double> temperature;  // 0: greedy
  std::optional<double> top_p;
  std::optional<int> top_k;
  std::optional<double> min_p;
  std::optional<double> presence_penalty;
  std::optional<double> frequency_penalty;
  std::optional<double> repetition_penalty;
  std::optional<int64_t> max_tokens;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;  // stop strings (not included in the output)
};

struct GenerationInput {
  std::vector<ChatTurn> messages;     // rendered with the model's chat template...
  std::optional<std::string> prompt;  // ...or this raw text, when set
  GenerationOptions options;
  // Drop the oldest turns (never the system prompt or the last message) when the conversation
  // would not fit the context with max_tokens to spare, instead of failing.
  bool truncate_history = false;
  std::string affinity_key;  // e.g. the chat id: keeps a chat on the replica that caches its prefix
  std::string request_id;    // propagated as X-Request-Id
};

struct GenerationSummary {
  std::string finish_reason;      // "stop", "length", "cancelled", "error"
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;      // prompt tokens reused from the prefix cache
  std::string error;              // finish_reason "error": what went wrong
};

class TextStream {
 public:
  virtual ~TextStream() = default;
  // The next piece of text; nullopt when the generation has ended (see summary()).
  virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
  virtual void cancel() = 0;
  virtual const GenerationSummary& summary() const = 0;
};

class Generator {
 public:
  virtual ~Generator() = default;
  // Errors: invalid_argument (the request cannot fit the context, bad options), unavailable (the
  // model is busy or unreachable: try again later).
  virtual boost::asio::awaitable<Result<std::unique_ptr<TextStream>>> generate(GenerationInput input) = 0;
  // ok when a generation could start now (model loaded / upstream reachable).
  virtual boost::asio::awaitable<Status> ready() = 0;
  virtual std::string model_name() const = 0;
};

}  // namespace parley::llm
