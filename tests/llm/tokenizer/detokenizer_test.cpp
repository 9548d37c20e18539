#include "llm/tokenizer/detokenizer.hpp"

#include <gtest/gtest.h>

#include "llm/tokenizer/unicode.hpp"
#include "llm/tokenizer/vocab_files.hpp"

namespace parley::llm::tokenizer {
namespace {

using testing::vocab_tokenizer;
const std::string kFFFD = "\xEF\xBF\xBD";

bool is_well_formed(const std::string& s) { return sanitize_utf8(s) == s; }

TEST(Utf8Stream, HoldsIncompleteCharactersUntilTheyComplete) {
  Utf8Stream st;
  EXPECT_EQ(st.push("a\xF0\x9F"), "a");  // 🦙 = F0 9F A6 99
  EXPECT_TRUE(st.has_pending());
  EXPECT_EQ(st.push("\xA6"), "");
  EXPECT_EQ(st.push("\x99!"), "\xF0\x9F\xA6\x99!");
  EXPECT_FALSE(st.has_pending());
  EXPECT_EQ(st.finish(), "");
}

TEST(Utf8Stream, InvalidBytesBecomeReplacementCharacters) {
  Utf8Stream st;
  EXPECT_EQ(st.push("\xFF"), kFFFD);
  EXPECT_EQ(st.push("\x80x"), kFFFD + "x");                               // lone continuation byte
  EXPECT_EQ(st.push("\xC0\xAF"), kFFFD + kFFFD);                          // overlong '/'
  EXPECT_EQ(st.push("\xED\xA0\x80"), kFFFD + kFFFD + kFFFD);              // surrogate D800
  EXPECT_EQ(st.push("\xF4\x90\x80\x80"), kFFFD + kFFFD + kFFFD + kFFFD);  // > U+10FFFF
  // A truncated character followed by a new one: one U+FFFD for the maximal subpart, then the rest.
  EXPECT_EQ(st.push("\xE2\x82"), "");
  EXPECT_EQ(st.push("A"), kFFFD + "A");
  EXPECT_EQ(st.push("\xE2\x82"), "");
  EXPECT_EQ(st.push("\xE2\x82\xAC"), kFFFD + "\xE2\x82\xAC");  // then a whole €
}

TEST(Utf8Stream, StreamEndingMidCharacterGivesReplacementCharacter) {
  Utf8Stream st;
  EXPECT_EQ(st.push("ok\xE6\x97"), "ok");
  EXPECT_EQ(st.finish(), kFFFD);
  EXPECT_EQ(st.finish(), "");  // reset
  EXPECT_EQ(st.push("\xE6\x97\xA5"), "\xE6\x97\xA5");
}

TEST(StreamingDetokenizer, SpmByteTokensSplitAcrossSteps) {
  const Tokenizer& spm = vocab_tokenizer("llama-spm");
  // 🦙 has no token in this vocabulary: four byte tokens <0xF0> <0x9F> <0xA6> <0x99>.
  const auto ids = spm.encode("🦙", false, false);
  ASSERT_EQ(ids, (std::vector<TokenId>{29871, 243, 162, 169, 156}));
  StreamingDetokenizer d(spm);
  EXPECT_EQ(d.push(ids[0]), " ");
  EXPECT_EQ(d.push(ids[1]), "");
  EXPECT_EQ(d.push(ids[2]), "");
  EXPECT_EQ(d.push(ids[3]), "");
  EXPECT_EQ(d.push(ids[4]), "🦙");
  EXPECT_EQ(d.finish(), "");

  // A stream that stops after two of the four bytes ends with U+FFFD; a stray continuation byte
  // token becomes U+FFFD at once.
  StreamingDetokenizer cut(spm);
  EXPECT_EQ(cut.push(243), "");
  EXPECT_EQ(cut.push(162), "");
  EXPECT_EQ(cut.push(15043), kFFFD + " Hello");
  EXPECT_EQ(cut.push(162), kFFFD);
  EXPECT_EQ(cut.push(243), "");
  EXPECT_EQ(cut.finish(), kFFFD);
}

TEST(StreamingDetokenizer, StripLeadingSpaceAndSpecialTokens) {
  const Tokenizer& spm = vocab_tokenizer("llama-spm");
  StreamingDetokenizer d(spm, {.render_special = false, .strip_leading_space = true});
  EXPECT_EQ(d.push(15043), "Hello");
  EXPECT_EQ(d.push(3186), " world");
  EXPECT_EQ(d.push(2), "");
  StreamingDetokenizer s(spm, {.render_special = true});
  EXPECT_EQ(s.push(2), "</s>");
}

TEST(StreamingDetokenizer, EveryPieceIsWellFormedAndTheStreamEqualsDecode) {
  const std::string text =
      "Cửa Việt — 我想在apple工作 🚀 😶‍🌫️ ✅ 🦙🦙 нещо "
      "កាន់តែពិសេស";
  for (const char* name : {"llama-spm", "gpt-2", "qwen2-reconstructed", "llama-bpe-reconstructed"}) {
    const Tokenizer& tok = vocab_tokenizer(name);
    const auto ids = tok.encode(text, false, false);
    StreamingDetokenizer d(tok);
    std::string all;
    int held = 0;
    for (TokenId id : ids) {
      const std::string piece = d.push(id);
      EXPECT_TRUE(is_well_formed(piece)) << name;
      held += piece.empty();
      all += piece;
    }
    all += d.finish();
    EXPECT_EQ(all, tok.decode(ids)) << name;
    if (std::string(name) != "llama-bpe-reconstructed") {
      EXPECT_GT(held, 0) << name << ": no token split a character";
    }
  }
}

}  // namespace
}  // namespace parley::llm::tokenizer
