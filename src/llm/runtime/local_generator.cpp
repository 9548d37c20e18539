#include "llm/runtime/local_generator.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <mutex>
#include <random>
#include <stdexcept>

#include "llm/gguf/gguf_reader.hpp"
#include "llm/sample/output_stream.hpp"
#include "llm/sample/sampler.hpp"

namespace parley::llm {
namespace asio = boost::asio;
namespace {

sample::SamplingParams sampling_params(const GenerationOptions& o) {
  sample::SamplingParams p;
  if (o.temperature) p.temperature = static_cast<float>(*o.temperature);
  if (o.top_p) p.top_p = static_cast<float>(*o.top_p);
  if (o.top_k) p.top_k = *o.top_k;
  if (o.min_p) p.min_p = static_cast<float>(*o.min_p);
  if (o.presence_penalty) p.presence_penalty = static_cast<float>(*o.presence_penalty);
  if (o.frequency_penalty) p.frequency_penalty = static_cast<float>(*o.frequency_penalty);
  if (o.repetition_penalty) p.repeat_penalty = static_cast<float>(*o.repetition_penalty);
  // Without a seed every request still gets its own random stream.
  p.seed = o.seed ? *o.seed : std::random_device{}() * 0x9E3779B97F4A7C15ull + std::random_device{}();
  return p;
}

Status check_options(const GenerationOptions& o) {
  auto bad = [](std::string m) { return Status(make_error(ErrorCode::invalid_argument, std::move(m))); };
  if (o.temperature && (*o.temperature < 0 || *o.temperature > 100)) return bad("temperature must be between 0 and 100");
  if (o.top_p && (*o.top_p <= 0 || *o.top_p > 1)) return bad("top_p must be in (0, 1]");
  if (o.min_p && (*o.min_p < 0 || *o.min_p > 1)) return bad("min_p must be in [0, 1]");
  if (o.top_k && *o.top_k < 0) return bad("top_k must not be negative");
  if (o.repetition_penalty && (*o.repetition_penalty <= 0 || *o.repetition_penalty > 10))
    return bad("repetition_penalty must be in (0, 10]");
  for (auto* p : {&o.presence_penalty, &o.frequency_penalty})
    if (*p && (**p < -2 || **p > 2)) return bad("presence_penalty and frequency_penalty must be in [-2, 2]");
  if (o.max_tokens && *o.max_tokens < 1) return bad("max_tokens must be at least 1");
  if (o.stop.size() > 16) return bad("at most 16 stop strings");
  for (auto& s : o.stop)
    if (s.empty() || s.size() > 512) return bad("stop strings must be 1 to 512 bytes");
  return ok_status();
}

// The wake-up from the engine's notify callback (scheduler thread) to the stream's coroutine: a
// thread-safe channel holding at most one pending signal, so no wake-up is ever lost.
struct Shared {
  explicit Shared(asio::any_io_executor ex) : wake(ex, 1) {}
  asio::experimental::concurrent_channel<void(boost::system::error_code)> wake;
};

// What the engine's callback holds: a pointer to the stream's channel that the stream clears
// before it goes. The channel itself is only ever destroyed by the stream, on its own thread: had
// the callback held it (a weak_ptr it locks), the scheduler thread could drop the last reference
// and destroy the channel after its io_context was gone (ThreadSanitizer, LocalGenerator tests).
struct Waker {
  std::mutex mu;
  Shared* target = nullptr;
  void wake() {
    std::lock_guard lock(mu);
    if (target) target->wake.try_send(boost::system::error_code{});
  }
  void detach() {
    std::lock_guard lock(mu);
    target = nullptr;
  }
};

class LocalStream : public TextStream {
 public:
  LocalStream(std::shared_ptr<Sequence> seq, std::unique_ptr<Shared> shared, std::shared_ptr<Waker> waker,
              sample::OutputStream out)
      : seq_(std::move(seq)), shared_(std::move(shared)), waker_(std::move(waker)), out_(std::move(out)) {
    summary_.prompt_tokens = seq_->prompt_tokens();
    waker_->target = shared_.get();
  }
  ~LocalStream() override {
    waker_->detach();
    seq_->cancel();
  }

  // One piece per token that completes some text (tokens that arrived together are still handed
  // out one by one, as a streaming client expects).
  asio::awaitable<std::optional<std::string>> next() override {
    std::string text;
    for (;;) {
      if (done_) co_return std::nullopt;
      if (next_token_ == tokens_.size()) {
        tokens_.clear();
        next_token_ = 0;
        finish_ = seq_->poll(tokens_);
      }
      while (next_token_ < tokens_.size() && text.empty() && !done_) {
        ++summary_.completion_tokens;
        if (memo_) entry_.reply_tokens.push_back(tokens_[next_token_]);
        auto step = out_.push(tokens_[next_token_++]);
        text += step.text;
        if (step.finish != sample::FinishReason::none) {
          // A stop string (or the output stream's own limit): the engine need not go on.
          seq_->cancel();
          memo_.reset();  // the text was cut: it will not come back as the reply
          end(sample::finish_reason_name(step.finish));
        }
      }
      if (!text.empty()) {
        if (memo_) entry_.reply_text += text;
        co_return text;
      }
      if (!done_ && next_token_ == tokens_.size() && finish_ != FinishReason::none) {
        text += out_.finish();
        if (finish_ == FinishReason::error) summary_.error = seq_->error_message();
        end(finish_ == FinishReason::cancelled && cancelled_by_caller_ ? "cancelled" : finish_reason_name(finish_));
        if (memo_ && (finish_ == FinishReason::stop || finish_ == FinishReason::length)) {
          entry_.reply_text += text;
          memo_->record(std::move(entry_));
        }
        memo_.reset();
        if (!text.empty()) co_return text;
        co_return std::nullopt;
      }
      if (next_token_ == tokens_.size()) {
        boost::system::error_code ec;
        co_await shared_->wake.async_receive(asio::redirect_error(asio::use_awaitable, ec));
      }
    }
  }

  // When the reply ends by itself (end of turn or length), its tokens and text go to `memo` for
  // the chat's next turn.
  void remember_reply(std::shared_ptr<ReplyMemo> memo, ReplyMemo::Reply entry) {
    memo_ = std::move(memo);
    entry_ = std::move(entry);
  }

  void cancel() override {
    cancelled_by_caller_ = true;
    seq_->cancel();
  }
  const GenerationSummary& summary() const override { return summary_; }

 private:
  void end(const char* reason) {
    done_ = true;
    summary_.finish_reason = reason;
    summary_.cached_tokens = seq_->cached_tokens();
  }

  std::shared_ptr<Sequence> seq_;
  std::unique_ptr<Shared> shared_;
  std::shared_ptr<Waker> waker_;
  sample::OutputStream out_;
  std::vector<int32_t> tokens_;
  size_t next_token_ = 0;
  FinishReason finish_ = FinishReason::none;
  GenerationSummary summary_;
  bool done_ = false;
  bool cancelled_by_caller_ = false;
  std::shared_ptr<ReplyMemo> memo_;  // set while the reply is being remembered
  ReplyMemo::Reply entry_;
};

std::string model_display_name(const Model& m) {
  if (auto n = m.file().get_string("general.name"); n && !n->empty()) return *n;
  return std::filesystem::path(m.path()).stem().string();
}

}  // namespace

std::unique_ptr<LocalGenerator> LocalGenerator::open(const std::string& model_path, LocalGeneratorOptions options) {
  return std::make_unique<LocalGenerator>(Model::load(model_path), std::move(options));
}

LocalGenerator::LocalGenerator(std::shared_ptr<const Model> model, LocalGeneratorOptions options)
    : model_(std::move(model)), options_(std::move(options)), tokenizer_([&] {
        auto v = tokenizer::load_vocab(model_->file());
        if (!v) throw std::runtime_error("model tokenizer: " + v.error().message);
        return tokenizer::Tokenizer(std::move(*v));
      }()) {
  auto t = chat::select_template(options_.chat_template, tokenizer_.vocab().chat_template);
  if (!t) throw std::runtime_error(t.error().message);
  template_ = std::move(*t);
  stop_tokens_ = chat::stop_token_ids(template_, tokenizer_);
  name_ = model_display_name(*model_);
  if (options_.engine.ctx <= 0) options_.engine.ctx = std::min<int64_t>(model_->hparams().n_ctx_train, 4096);
  memo_ = std::make_shared<ReplyMemo>(options_.reply_memo_entries);
  engine_ = std::make_unique<Engine>(model_, options_.engine);
}

LocalGenerator::~LocalGenerator() = default;

Result<LocalGenerator::Prompt> LocalGenerator::tokenize(const GenerationInput& input) const {
  if (input.prompt) return Prompt{{}, tokenizer_.encode(*input.prompt, /*add_special=*/true, /*parse_special=*/false)};
  std::vector<chat::ChatMessage> msgs;
  msgs.reserve(input.messages.size());
  for (auto& m : input.messages) msgs.push_back({m.role, m.content});
  auto text = chat::render(template_, msgs);
  if (!text) return text.error();
  auto tokens = tokenizer_.encode(*text, /*add_special=*/true, /*parse_special=*/true);
  return Prompt{std::move(*text), std::move(tokens)};
}

Result<LocalGenerator::Prompt> LocalGenerator::prepare(const GenerationInput& input) const {
  if (!input.prompt && input.messages.empty())
    return make_error(ErrorCode::invalid_argument, "messages must not be empty");
  const int64_t ctx = engine_->options().ctx;
  const int64_t reserve = input.options.max_tokens ? *input.options.max_tokens : 1;
  GenerationInput work = input;
  auto p = tokenize(work);
  for (;;) {
    if (!p) return p;
    const int64_t need = static_cast<int64_t>(p->tokens.size()) + reserve;
    if (need <= ctx || !work.truncate_history || work.prompt) break;
    // Drop the oldest turn that is neither a system message nor the last message.
    auto victim = std::find_if(work.messages.begin(), work.messages.end() - 1,
                               [](const ChatTurn& t) { return t.role != "system"; });
    if (victim == work.messages.end() - 1) return p;  // nothing left to drop: submit reports the limit
    work.messages.erase(victim);
    p = tokenize(work);
  }
  if (p->text.empty()) return p;
  // The tokens of an earlier reply, as generated, instead of its text encoded again (when that
  // still fits: the splice may be a few tokens longer).
  if (auto spliced = memo_->splice(p->text, p->tokens, tokenizer_);
      spliced && (static_cast<int64_t>(spliced->size()) + reserve <= ctx || spliced->size() <= p->tokens.size()))
    p->tokens = std::move(*spliced);
  return p;
}

Result<std::vector<int32_t>> LocalGenerator::prompt_tokens(const GenerationInput& input) const {
  auto p = prepare(input);
  if (!p) return p.error();
  return std::move(p->tokens);
}

asio::awaitable<Result<std::unique_ptr<TextStream>>> LocalGenerator::generate(GenerationInput input) {
  if (auto ok = check_options(input.options); !ok) co_return ok.error();
  auto prompt = prepare(input);
  if (!prompt) co_return prompt.error();
  const int64_t ctx = engine_->options().ctx;
  const int64_t room = ctx - static_cast<int64_t>(prompt->tokens.size());
  int64_t max_tokens = input.options.max_tokens.value_or(options_.default_max_tokens > 0 ? options_.default_max_tokens : room);
  if (!input.options.max_tokens) max_tokens = std::min(max_tokens, room);
  if (max_tokens < 1) max_tokens = 1;  // submit() states the limit

  GenerationRequest req;
  ReplyMemo::Reply memo_entry;
  if (!prompt->text.empty() && options_.reply_memo_entries > 0) {
    memo_entry.prompt_text = std::move(prompt->text);
    memo_entry.prompt_tokens = prompt->tokens;
  }
  req.prompt = std::move(prompt->tokens);
  req.max_tokens = max_tokens;
  req.stop_tokens = stop_tokens_;
  auto sampler = std::make_shared<sample::Sampler>(sampling_params(input.options), tokenizer_.n_tokens());
  const size_t window = req.prompt.size() > 64 ? req.prompt.size() - 64 : 0;
  sampler->accept(std::span<const int32_t>(req.prompt).subspan(window));
  req.sampler = [sampler](std::span<float> logits, std::span<const int32_t>) {
    const int32_t t = sampler->sample(logits);
    sampler->accept(t);
    return t;
  };

  sample::StopConfig stop;
  stop.stop_strings = input.options.stop;
  stop.detokenizer.strip_leading_space = input.prompt.has_value() ? false : true;
  auto shared = std::make_unique<Shared>(co_await asio::this_coro::executor);
  auto submitted = engine_->submit(std::move(req));
  if (!submitted) co_return submitted.error();
  auto waker = std::make_shared<Waker>();
  auto stream = std::make_unique<LocalStream>(*submitted, std::move(shared), waker,
                                              sample::OutputStream(tokenizer_, std::move(stop)));
  (*submitted)->set_notify([waker] { waker->wake(); });
  if (!memo_entry.prompt_text.empty()) stream->remember_reply(memo_, std::move(memo_entry));
  co_return std::unique_ptr<TextStream>(std::move(stream));
}

asio::awaitable<Status> LocalGenerator::ready() { co_return ok_status(); }

}  // namespace parley::llm
