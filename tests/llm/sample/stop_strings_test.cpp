#include "llm/sample/stop_strings.hpp"

#include <gtest/gtest.h>

#include "llm/sample/output_stream.hpp"
#include "llm/tokenizer/vocab_files.hpp"

namespace parley::llm::sample {
namespace {

TEST(StopStringMatcher, HoldsBackAPossibleStartAndReleasesIt) {
  StopStringMatcher m({"###", "\nUser:"});
  auto o = m.push("Hello #");
  EXPECT_EQ(o.text, "Hello ");
  EXPECT_FALSE(o.stopped);
  o = m.push("# and");  // "## and": not a stop after all
  EXPECT_EQ(o.text, "## and");
  o = m.push(" more\nUs");
  EXPECT_EQ(o.text, " more");
  o = m.push("e");
  EXPECT_EQ(o.text, "");
  o = m.push("r");
  EXPECT_EQ(o.text, "");
  EXPECT_FALSE(o.stopped);
  EXPECT_EQ(m.flush(), "\nUser");  // the stream ended before the stop string completed
}

TEST(StopStringMatcher, StopsAcrossPiecesAndCutsBeforeTheStop) {
  StopStringMatcher m({"</answer>"});
  EXPECT_EQ(m.push("42</ans").text, "42");
  auto o = m.push("wer> trailing");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.text, "");
  EXPECT_EQ(o.stop, "</answer>");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.push("more").text, "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopStringMatcher, EarliestStopWinsAndStopAtTheStart) {
  StopStringMatcher m({"bb", "abc", ""});
  auto o = m.push("xabcbb");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.text, "x");
  EXPECT_EQ(o.stop, "abc");

  StopStringMatcher first({"STOP"});
  o = first.push("STOP");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.text, "");

  StopStringMatcher none({});
  EXPECT_EQ(none.push("anything").text, "anything");
}

TEST(StopStringMatcher, HoldsOnlyWhatCanStillMatch) {
  StopStringMatcher m({"abcd"});
  EXPECT_EQ(m.push("xxab").text, "xx");
  EXPECT_EQ(m.push("x").text, "abx");  // "abx" can no longer start "abcd"
  EXPECT_EQ(m.push("aab").text, "a");  // "ab" may; "a" before it may not
  EXPECT_EQ(m.flush(), "ab");
}

TEST(StopStringMatcher, MultiByteStopString) {
  StopStringMatcher m({"。\n"});
  EXPECT_EQ(m.push("好").text, "好");
  EXPECT_EQ(m.push("。").text, "");
  auto o = m.push("\n下");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.text, "");
}

using tokenizer::testing::vocab_tokenizer;

std::string run(OutputStream& s, const std::vector<TokenId>& ids, FinishReason& finish) {
  std::string out;
  finish = FinishReason::none;
  for (TokenId id : ids) {
    auto step = s.push(id);
    out += step.text;
    if (step.finish != FinishReason::none) {
      finish = step.finish;
      break;
    }
  }
  return out;
}

TEST(OutputStream, StopsAtAStopTokenWithoutShowingIt) {
  const auto& qwen = vocab_tokenizer("qwen2-reconstructed");
  auto ids = qwen.encode("Hello world!<|im_end|>ignored", false, true);
  OutputStream s(qwen, {.stop_tokens = {151645, 151643}, .stop_strings = {}, .max_tokens = 100});
  FinishReason f;
  EXPECT_EQ(run(s, ids, f), "Hello world!");
  EXPECT_EQ(f, FinishReason::stop);
  EXPECT_EQ(s.n_tokens(), 4);  // Hello, " world", "!", <|im_end|>
  EXPECT_EQ(s.push(42).finish, FinishReason::stop);
  EXPECT_EQ(s.finish(), "");
}

TEST(OutputStream, StopStringAcrossTokens) {
  const auto& qwen = vocab_tokenizer("qwen2-reconstructed");
  auto ids = qwen.encode("The answer is 42.\nUser: next", false, false);
  OutputStream s(qwen, {.stop_tokens = {}, .stop_strings = {"\nUser:"}, .max_tokens = -1});
  FinishReason f;
  EXPECT_EQ(run(s, ids, f), "The answer is 42.");
  EXPECT_EQ(f, FinishReason::stop);
  EXPECT_EQ(finish_reason_name(f), std::string("stop"));
}

TEST(OutputStream, MaxTokensFlushesHeldText) {
  const auto& spm = vocab_tokenizer("llama-spm");
  // "Hi ##" then the limit: the held "#" (a possible stop start) is released at the length stop,
  // and the incomplete 🦙 bytes become U+FFFD.
  auto ids = spm.encode("Hi #", false, false);
  ids.push_back(243);  // <0xF0>
  ids.push_back(162);  // <0x9F>
  OutputStream s(
      spm, {.stop_tokens = {2}, .stop_strings = {"##"}, .max_tokens = static_cast<int32_t>(ids.size())});
  FinishReason f;
  EXPECT_EQ(run(s, ids, f), " Hi #\xEF\xBF\xBD");
  EXPECT_EQ(f, FinishReason::length);
  EXPECT_EQ(finish_reason_name(f), std::string("length"));
}

TEST(OutputStream, FinishReleasesTheTail) {
  const auto& qwen = vocab_tokenizer("qwen2-reconstructed");
  OutputStream s(qwen, {.stop_tokens = {}, .stop_strings = {"</s>"}, .max_tokens = -1});
  std::string out;
  for (TokenId id : qwen.encode("a </", false, false)) out += s.push(id).text;
  EXPECT_EQ(out, "a ");
  EXPECT_EQ(s.finish(), "</");
  EXPECT_EQ(s.finish_reason(), FinishReason::length);
}

}  // namespace
}  // namespace parley::llm::sample
