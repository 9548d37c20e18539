// LocalGenerator: the Generator seam (llm/generator.hpp) over the in-process engine.
//
// It owns the model's Engine, Tokenizer and chat template: messages are rendered with the template,
// tokenized, submitted to the engine; sampled tokens come back through the engine's Sequence, are
// detokenized to whole UTF-8 characters and checked against stop strings (sample::OutputStream),
// and handed to the caller's coroutine as text pieces.
#pragma once

#include <memory>
#include <string>

#include "llm/chat/chat_template.hpp"
#include "llm/generator.hpp"
#include "llm/runtime/engine.hpp"
#include "llm/runtime/reply_memo.hpp"
#include "llm/tokenizer/tokenizer.hpp"

namespace parley::llm {

struct LocalGeneratorOptions {
  EngineOptions engine;
  std::string chat_template;       // a built-in template name to use instead of the model's own
  int64_t default_max_tokens = 0;  // 0: up to the context
  size_t reply_memo_entries = ReplyMemo::kDefaultEntries;  // replies remembered for the next turn (0: off)
};

class LocalGenerator : public Generator {
 public:
  // Loads the model (throws std::runtime_error naming the problem).
  static std::unique_ptr<LocalGenerator> open(const std::string& model_path, LocalGeneratorOptions options);
  LocalGenerator(std::shared_ptr<const Model> model, LocalGeneratorOptions options);
  ~LocalGenerator() override;

  boost::asio::awaitable<Result<std::unique_ptr<TextStream>>> generate(GenerationInput input) override;
  boost::asio::awaitable<Status> ready() override;
  std::string model_name() const override { return name_; }

  // Renders and tokenizes what generate() would submit (after history truncation, with the tokens
  // of a remembered earlier reply spliced in); errors as generate(). Exposed for lm-api's prompt
  // accounting and for tests.
  Result<std::vector<int32_t>> prompt_tokens(const GenerationInput& input) const;
  const ReplyMemo& reply_memo() const { return *memo_; }

  Engine& engine() { return *engine_; }
  const tokenizer::Tokenizer& tokenizer() const { return tokenizer_; }
  const chat::ChatTemplate& chat_template() const { return template_; }
  int64_t context_length() const { return engine_->options().ctx; }

 private:
  struct Prompt {
    std::string text;  // the rendered chat (empty for a raw prompt)
    std::vector<int32_t> tokens;
  };
  Result<Prompt> tokenize(const GenerationInput& input) const;
  Result<Prompt> prepare(const GenerationInput& input) const;

  std::shared_ptr<const Model> model_;
  LocalGeneratorOptions options_;
  tokenizer::Tokenizer tokenizer_;
  chat::ChatTemplate template_;
  std::vector<int32_t> stop_tokens_;
  std::string name_;
  std::shared_ptr<ReplyMemo> memo_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace parley::llm
