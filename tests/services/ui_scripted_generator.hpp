// Test-only Generator for the UI handler tests: streams scripted pieces with a delay, can report
// "busy" (unavailable) a number of times, fail mid-stream, and records what it was asked and whether
// it was cancelled. (Tests with the real engine: ui_local_generator_test.cpp.)
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "llm/generator.hpp"

namespace parley::test {

struct GeneratorScript {
  std::vector<std::string> pieces{"Hello", ", ", "**world**", "!"};
  std::chrono::milliseconds delay{0};  // before each piece
  int fail_after = -1;                 // >= 0: finish with "error" after this many pieces
};

class ScriptedGenerator final : public llm::Generator {
 public:
  GeneratorScript script;
  std::atomic<int> busy_remaining{0};  // generate() answers unavailable while > 0
  std::atomic<bool> down{false};       // generate() answers unavailable
  std::atomic<int> calls{0}, started{0}, cancelled{0}, finished{0};

  llm::GenerationInput last_input() {
    std::lock_guard lock(mutex_);
    return last_;
  }

  boost::asio::awaitable<Result<std::unique_ptr<llm::TextStream>>> generate(llm::GenerationInput input) override {
    ++calls;
    {
      std::lock_guard lock(mutex_);
      last_ = input;
    }
    if (down) co_return make_error(ErrorCode::unavailable, "lm-api is not reachable");
    if (busy_remaining.load() > 0) {
      --busy_remaining;
      co_return make_error(ErrorCode::unavailable, "busy");
    }
    ++started;
    co_return std::unique_ptr<llm::TextStream>(new Stream(*this, script));
  }
  boost::asio::awaitable<Status> ready() override {
    if (down) co_return make_error(ErrorCode::unavailable, "down");
    co_return ok_status();
  }
  std::string model_name() const override { return "scripted-test-model"; }

 private:
  class Stream final : public llm::TextStream {
   public:
    Stream(ScriptedGenerator& g, GeneratorScript s) : gen_(g), script_(std::move(s)) {}
    ~Stream() override { ++gen_.finished; }
    boost::asio::awaitable<std::optional<std::string>> next() override {
      if (done_) co_return std::nullopt;
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
      auto until = std::chrono::steady_clock::now() + script_.delay;
      while (!cancel_ && std::chrono::steady_clock::now() < until) {
        timer.expires_after(std::chrono::milliseconds(2));
        co_await timer.async_wait(boost::asio::use_awaitable);
      }
      if (cancel_) {
        ++gen_.cancelled;
        co_return end("cancelled");
      }
      if (script_.fail_after >= 0 && static_cast<int>(i_) == script_.fail_after) {
        summary_.error = "scripted failure";
        co_return end("error");
      }
      if (i_ == script_.pieces.size()) co_return end("stop");
      summary_.completion_tokens++;
      co_return script_.pieces[i_++];
    }
    void cancel() override { cancel_ = true; }
    const llm::GenerationSummary& summary() const override { return summary_; }

   private:
    std::optional<std::string> end(const char* reason) {
      done_ = true;
      summary_.finish_reason = reason;
      summary_.prompt_tokens = 7;
      return std::nullopt;
    }
    ScriptedGenerator& gen_;
    GeneratorScript script_;
    size_t i_ = 0;
    bool done_ = false;
    std::atomic<bool> cancel_{false};
    llm::GenerationSummary summary_;
  };

  std::mutex mutex_;
  llm::GenerationInput last_;
};

}  // namespace parley::test
