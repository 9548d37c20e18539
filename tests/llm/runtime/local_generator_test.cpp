// The Generator seam over the in-process engine, on the real tiny model.
#include "llm/runtime/local_generator.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <sstream>

namespace parley::llm {
namespace {
namespace asio = boost::asio;

std::string shared(const std::string& rel) { return std::string(PARLEY_SHARED_DIR) + "/" + rel; }

std::string golden_text() {
  std::ifstream in(shared("models/golden/stories260K-once-upon-a-time-64.txt"), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Outcome {
  std::string text;
  GenerationSummary summary;
  std::optional<Error> error;
  int pieces = 0;
};

Outcome run(LocalGenerator& gen, GenerationInput in, int stop_after_pieces = -1) {
  asio::io_context io;
  Outcome out;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto s = co_await gen.generate(std::move(in));
        if (!s) {
          out.error = s.error();
          co_return;
        }
        while (auto p = co_await (*s)->next()) {
          EXPECT_FALSE(p->empty());
          out.text += *p;
          if (++out.pieces == stop_after_pieces) (*s)->cancel();
        }
        out.summary = (*s)->summary();
      },
      asio::detached);
  io.run();
  return out;
}

LocalGenerator& stories() {
  static auto g = LocalGenerator::open(shared("models/stories260K.gguf"),
                                       LocalGeneratorOptions{.engine = {.threads = 1, .ctx = 512, .slots = 4}});
  return *g;
}

GenerationInput raw(std::string prompt, int64_t n, double temperature = 0) {
  GenerationInput in;
  in.prompt = std::move(prompt);
  in.options.max_tokens = n;
  in.options.temperature = temperature;
  return in;
}

TEST(LocalGenerator, GreedyRawCompletionEqualsGoldenText) {
  auto out = run(stories(), raw("Once upon a time", 64));
  EXPECT_EQ(out.text, golden_text());
  EXPECT_EQ(out.summary.finish_reason, "length");
  EXPECT_EQ(out.summary.prompt_tokens, 5);
  EXPECT_EQ(out.summary.completion_tokens, 64);
  // Streamed token by token even when the engine is faster than the reader.
  EXPECT_EQ(out.pieces, 64);
}

TEST(LocalGenerator, StopStringCutsTheText) {
  auto in = raw("Once upon a time", 64);
  in.options.stop = {"Lily"};
  auto out = run(stories(), in);
  EXPECT_EQ(out.text, ", there was a little girl named ");
  EXPECT_EQ(out.summary.finish_reason, "stop");
}

TEST(LocalGenerator, SameSeedSameOutputOtherSeedOtherOutput) {
  auto in = raw("Once upon a time", 48, 1.0);
  in.options.seed = 42;
  auto a = run(stories(), in), b = run(stories(), in);
  in.options.seed = 43;
  auto c = run(stories(), in);
  EXPECT_EQ(a.text, b.text);
  EXPECT_NE(a.text, c.text);
}

TEST(LocalGenerator, CancelEndsTheStreamAndFreesTheSlot) {
  auto out = run(stories(), raw("Once upon a time", 400), /*stop_after_pieces=*/3);
  EXPECT_EQ(out.summary.finish_reason, "cancelled");
  EXPECT_LT(out.summary.completion_tokens, 400);
  for (int i = 0; i < 200 && stories().engine().stats().running != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(stories().engine().stats().running, 0);
}

TEST(LocalGenerator, RejectsBadOptionsAndOversizedPrompts) {
  auto in = raw("Once upon a time", 10);
  in.options.temperature = -1;
  EXPECT_EQ(run(stories(), in).error->code, ErrorCode::invalid_argument);
  auto too_long = raw("Once upon a time", 600);
  auto out = run(stories(), too_long);
  ASSERT_TRUE(out.error);
  EXPECT_NE(out.error->message.find("512"), std::string::npos) << out.error->message;
}

TEST(LocalGenerator, TruncatesOldTurnsToFitButKeepsSystemAndLastMessage) {
  GenerationInput in;
  in.truncate_history = true;
  in.options.max_tokens = 16;
  in.messages.push_back({"system", "Be brief."});
  std::string filler;
  for (int i = 0; i < 40; ++i) filler += "once upon a time there was a dog. ";
  for (int i = 0; i < 6; ++i) {
    in.messages.push_back({"user", filler});
    in.messages.push_back({"assistant", filler});
  }
  in.messages.push_back({"user", "the end"});
  auto tokens = stories().prompt_tokens(in);
  ASSERT_TRUE(tokens.ok());
  EXPECT_LE(static_cast<int64_t>(tokens->size()) + 16, 512);
  auto text = stories().tokenizer().decode(*tokens);
  EXPECT_NE(text.find("Be brief."), std::string::npos);
  EXPECT_NE(text.find("the end"), std::string::npos);
  auto out = run(stories(), in);
  EXPECT_FALSE(out.error) << out.error->message;
  in.truncate_history = false;
  EXPECT_TRUE(run(stories(), in).error);
}

// The second turn of a chat starts after the whole first turn, the reply included: the tokens the
// model generated are reused, not the reply's text encoded again (lm-api's 5th-turn TTFT).
TEST(LocalGenerator, NextTurnReusesTheCachedReply) {
  GenerationInput in;
  in.options.max_tokens = 12;
  in.options.temperature = 0;
  in.messages.push_back({"user", "Once upon a time there was a little girl."});
  auto first = run(stories(), in);
  ASSERT_FALSE(first.error) << first.error->message;
  ASSERT_FALSE(first.text.empty());
  EXPECT_EQ(first.summary.finish_reason, "length");
  EXPECT_GE(stories().reply_memo().entries(), 1u);

  in.messages.push_back({"assistant", first.text});
  in.messages.push_back({"user", "The end."});
  auto second = run(stories(), in);
  ASSERT_FALSE(second.error) << second.error->message;
  // Everything evaluated in turn 1 is reused: its prompt and all but the last generated token
  // (sampled, never evaluated, as the generation stopped at max_tokens).
  EXPECT_GE(second.summary.cached_tokens, first.summary.prompt_tokens + first.summary.completion_tokens - 1)
      << "turn 1: " << first.summary.prompt_tokens << " + " << first.summary.completion_tokens;
  // The same conversation with an edited reply gets no splice, and still works.
  in.messages[1].content = "Well, " + first.text;
  auto edited = run(stories(), in);
  ASSERT_FALSE(edited.error);
  EXPECT_LT(edited.summary.cached_tokens, first.summary.prompt_tokens + first.summary.completion_tokens - 1);
}

}  // namespace
}  // namespace parley::llm
