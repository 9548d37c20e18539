// ReplyMemo: the next turn of a chat reuses the tokens generated for the last reply.
#include "llm/runtime/reply_memo.hpp"

#include <gtest/gtest.h>

#include "llm/tokenizer/vocab_files.hpp"

namespace parley::llm {
namespace {

using tokenizer::testing::vocab_tokenizer;

std::vector<int32_t> cat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Chat {
  const tokenizer::Tokenizer& tok = vocab_tokenizer("qwen2-reconstructed");
  std::string turn1 = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nSay hello<|im_end|>\n<|im_start|>assistant\n";
  std::string rest = "<|im_end|>\n<|im_start|>user\nAnd now?<|im_end|>\n<|im_start|>assistant\n";
  std::vector<int32_t> encode(const std::string& s, bool special = true) const { return tok.encode(s, special, true); }
};

TEST(ReplyMemo, SplicesTheGeneratedTokensOfTheLastReply) {
  Chat c;
  // The model generated "Hello there" as single letters: encoding the text again would not match.
  std::vector<int32_t> reply;
  for (char ch : std::string("Hello there")) {
    auto t = c.encode(std::string(1, ch), false);
    ASSERT_EQ(t.size(), 1u);
    reply.push_back(t[0]);
  }
  const std::string reply_text = "Hello there";
  ASSERT_NE(c.encode(reply_text, false), reply);
  ReplyMemo memo;
  const auto prompt1 = c.encode(c.turn1);
  memo.record({c.turn1, prompt1, reply, reply_text});
  const std::string text2 = c.turn1 + reply_text + c.rest;
  const auto plain = c.encode(text2);
  auto spliced = memo.splice(text2, plain, c.tok);
  ASSERT_TRUE(spliced);
  EXPECT_EQ(*spliced, cat(cat(prompt1, reply), c.encode(c.rest, false)));
  EXPECT_EQ(c.tok.decode(*spliced), c.tok.decode(plain));

  // Turn 3 chains on turn 2's spliced prompt.
  const std::vector<int32_t> reply2 = c.encode("Bye", false);
  memo.record({text2, *spliced, reply2, "Bye"});
  const std::string text3 = text2 + "Bye" + c.rest;
  auto spliced3 = memo.splice(text3, c.encode(text3), c.tok);
  ASSERT_TRUE(spliced3);
  EXPECT_EQ(*spliced3, cat(cat(*spliced, reply2), c.encode(c.rest, false)));
  EXPECT_EQ(memo.entries(), 2u);
}

TEST(ReplyMemo, NoSpliceWhenTheTextDiffersOrTheJoinIsNotExact) {
  Chat c;
  ReplyMemo memo;
  const auto prompt1 = c.encode(c.turn1);
  memo.record({c.turn1, prompt1, c.encode("Hel", false), "Hel"});
  // The client edited the reply.
  const std::string edited = c.turn1 + "Help" + c.rest;
  EXPECT_FALSE(memo.splice(edited, c.encode(edited), c.tok));
  // The reply text continues in the same word: "lo" encoded alone is not how "Hello" ends.
  const std::string longer = c.turn1 + "Hello" + c.rest;
  EXPECT_FALSE(memo.splice(longer, c.encode(longer), c.tok));
  // A different conversation.
  const std::string other = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHel" + c.rest;
  EXPECT_FALSE(memo.splice(other, c.encode(other), c.tok));
  // Nothing after the reply: nothing to generate from.
  EXPECT_FALSE(memo.splice(c.turn1 + "Hel", c.encode(c.turn1 + "Hel"), c.tok));
}

TEST(ReplyMemo, KeepsTheMostRecentEntriesAndOneReplyPerPrompt) {
  Chat c;
  ReplyMemo memo(2);
  const auto prompt1 = c.encode(c.turn1);
  memo.record({c.turn1, prompt1, c.encode("A", false), "A"});
  memo.record({c.turn1, prompt1, c.encode("B", false), "B"});  // regenerated: replaces "A"
  EXPECT_EQ(memo.entries(), 1u);
  const std::string a = c.turn1 + "A" + c.rest;
  EXPECT_FALSE(memo.splice(a, c.encode(a), c.tok));
  memo.record({"x", c.encode("x"), c.encode("y", false), "y"});
  memo.record({"z", c.encode("z"), c.encode("y", false), "y"});
  EXPECT_EQ(memo.entries(), 2u);
  const std::string b = c.turn1 + "B" + c.rest;
  EXPECT_FALSE(memo.splice(b, c.encode(b), c.tok));  // evicted
  ReplyMemo off(0);
  off.record({c.turn1, prompt1, c.encode("B", false), "B"});
  EXPECT_EQ(off.entries(), 0u);
}

}  // namespace
}  // namespace parley::llm
