#include "llm/tokenizer/pre_tokenizer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "llm/tokenizer/unicode.hpp"

namespace parley::llm::tokenizer {
namespace {

std::vector<std::string> split(PreTokenizer p, std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view w : pre_tokenize(p, text)) out.emplace_back(w);
  return out;
}
using V = std::vector<std::string>;

TEST(PreTokenizer, Names) {
  EXPECT_EQ(pre_tokenizer_from_name("llama-bpe"), PreTokenizer::llama3);
  EXPECT_EQ(pre_tokenizer_from_name("qwen2"), PreTokenizer::qwen2);
  EXPECT_EQ(pre_tokenizer_from_name("smollm"), PreTokenizer::smollm);
  EXPECT_EQ(pre_tokenizer_from_name("gpt-2"), PreTokenizer::gpt2);
  EXPECT_EQ(pre_tokenizer_from_name("default"), PreTokenizer::gpt2);
}

TEST(PreTokenizer, Gpt2) {
  const auto p = PreTokenizer::gpt2;
  EXPECT_EQ(split(p, "Hello world's 12345!!"), (V{"Hello", " world", "'s", " 12345", "!!"}));
  EXPECT_EQ(split(p, "a   b"), (V{"a", "  ", " b"}));  // \s+(?!\S) leaves one space for the word
  EXPECT_EQ(split(p, "a \n b"), (V{"a", " \n", " b"}));
  EXPECT_EQ(split(p, "end   "), (V{"end", "   "}));
  EXPECT_EQ(split(p, "DON'T"), (V{"DON", "'", "T"}));        // contractions are case-sensitive here
  EXPECT_EQ(split(p, "x\t\ty"), (V{"x", "\t", "\t", "y"}));  // no letter prefix in gpt2
  EXPECT_EQ(split(p, ""), V{});
}

TEST(PreTokenizer, Llama3) {
  const auto p = PreTokenizer::llama3;
  EXPECT_EQ(split(p, "Hello world's 1234567"), (V{"Hello", " world", "'s", " ", "123", "456", "7"}));
  EXPECT_EQ(split(p, "DON'T"), (V{"DON", "'T"}));
  EXPECT_EQ(split(p, "\tHello"), (V{"\tHello"}));  // any non-newline non-letter can lead a word
  EXPECT_EQ(split(p, "x\n\n  y"), (V{"x", "\n\n", " ", " y"}));
  EXPECT_EQ(split(p, "a  \n  \n b"), (V{"a", "  \n  \n", " b"}));  // \s*[\r\n]+ ends after the last newline
  EXPECT_EQ(split(p, "...\n\nok"), (V{"...\n\n", "ok"}));          // punctuation takes following newlines
  EXPECT_EQ(split(p, " (x)"), (V{" (", "x", ")"}));
  EXPECT_EQ(split(p, "нещо на"), (V{"нещо", " на"}));
}

TEST(PreTokenizer, Qwen2DigitsOneByOne) {
  EXPECT_EQ(split(PreTokenizer::qwen2, "a 123"), (V{"a", " ", "1", "2", "3"}));
}

TEST(PreTokenizer, SmollmDigitsThenGpt2) {
  EXPECT_EQ(split(PreTokenizer::smollm, "ab 12c"), (V{"ab", " ", "1", "2", "c"}));
}

TEST(PreTokenizer, WordsTileTheInputEvenWhenItIsNotUtf8) {
  const std::string bad = "ok\xFF\xFE \xC3(x)\n\n \xE2\x82";
  for (auto p : {PreTokenizer::gpt2, PreTokenizer::llama3, PreTokenizer::qwen2, PreTokenizer::smollm}) {
    std::string joined;
    for (auto w : pre_tokenize(p, bad)) {
      EXPECT_FALSE(w.empty());
      joined += w;
    }
    EXPECT_EQ(joined, bad);
  }
}

TEST(Unicode, Categories) {
  EXPECT_TRUE(is_letter('a'));
  EXPECT_TRUE(is_letter(0x00C4));    // Ä
  EXPECT_TRUE(is_letter(0x6211));    // 我
  EXPECT_TRUE(is_letter(0x1780));    // Khmer KA
  EXPECT_FALSE(is_letter(0x17B6));   // Khmer vowel sign (Mc)
  EXPECT_FALSE(is_letter(0x1F999));  // 🦙
  EXPECT_TRUE(is_number('7'));
  EXPECT_TRUE(is_number(0x00BD));  // ½ (No)
  EXPECT_TRUE(is_number(0x0663));  // Arabic-Indic three
  EXPECT_FALSE(is_number('a'));
  EXPECT_TRUE(is_whitespace(0x3000));
  EXPECT_TRUE(is_whitespace('\v'));
  EXPECT_FALSE(is_whitespace(0x200B));  // zero-width space is not White_Space
}

TEST(Unicode, ByteMapIsABijection) {
  std::vector<bool> seen(256);
  for (int b = 0; b < 256; ++b) {
    const std::string& s = byte_to_unicode_utf8(static_cast<uint8_t>(b));
    const Utf8Step st = utf8_step(s, 0);
    ASSERT_EQ(st.kind, Utf8Step::complete);
    ASSERT_EQ(st.len, s.size());
    EXPECT_EQ(unicode_to_byte(st.cp), b);
  }
  EXPECT_EQ(byte_to_unicode_utf8(' '), "\xC4\xA0");  // Ġ
  EXPECT_EQ(byte_to_unicode_utf8('A'), "A");
  EXPECT_EQ(unicode_to_byte(0x4E00), -1);
}

}  // namespace
}  // namespace parley::llm::tokenizer
