// Tokenizer behaviour beyond the reference vectors: special tokens, BOS/EOS, decoding, invalid
// input, vocabulary loading errors, speed on long inputs.
#include "llm/tokenizer/tokenizer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "llm/gguf/gguf_writer.hpp"
#include "llm/tokenizer/token_index.hpp"
#include "llm/tokenizer/unicode.hpp"
#include "llm/tokenizer/vocab_files.hpp"

namespace parley::llm::tokenizer {
namespace {

using testing::vocab_tokenizer;

const char* const kAll[] = {"llama-spm", "phi-3", "gpt-2", "qwen2-reconstructed", "llama-bpe-reconstructed"};

TEST(Tokenizer, LoadsMetadata) {
  const Tokenizer& spm = vocab_tokenizer("llama-spm");
  EXPECT_EQ(spm.vocab().model, VocabModel::spm);
  EXPECT_EQ(spm.n_tokens(), 32000);
  EXPECT_EQ(spm.bos(), 1);
  EXPECT_EQ(spm.eos(), 2);
  EXPECT_TRUE(spm.vocab().add_bos);

  const Tokenizer& qwen = vocab_tokenizer("qwen2-reconstructed");
  EXPECT_EQ(qwen.vocab().model, VocabModel::bpe);
  EXPECT_EQ(qwen.pre_tokenizer(), PreTokenizer::qwen2);
  EXPECT_EQ(qwen.n_tokens(), 151936);
  EXPECT_EQ(qwen.eos(), 151645);
  EXPECT_FALSE(qwen.vocab().add_bos);
  EXPECT_NE(qwen.vocab().chat_template.find("<|im_start|>"), std::string::npos);
  EXPECT_EQ(qwen.token_type(151644), TokenType::control);
  EXPECT_EQ(qwen.token_type(151657), TokenType::user_defined);

  EXPECT_EQ(vocab_tokenizer("llama-bpe-reconstructed").pre_tokenizer(), PreTokenizer::llama3);
  EXPECT_EQ(vocab_tokenizer("gpt-2").pre_tokenizer(), PreTokenizer::gpt2);
}

TEST(Tokenizer, AddSpecialAddsBosWhereTheVocabularyAsks) {
  const Tokenizer& spm = vocab_tokenizer("llama-spm");
  EXPECT_EQ(spm.encode("Hello world", true, false), (std::vector<TokenId>{1, 15043, 3186}));
  EXPECT_EQ(spm.encode("", true, false), (std::vector<TokenId>{1}));
  const Tokenizer& l3 = vocab_tokenizer("llama-bpe-reconstructed");
  EXPECT_EQ(l3.encode("Hello", true, false).front(), 128000);
  const Tokenizer& qwen = vocab_tokenizer("qwen2-reconstructed");
  EXPECT_EQ(qwen.encode("Hello", true, false), qwen.encode("Hello", false, false));
}

TEST(Tokenizer, SpecialTokensOnlyWithParseSpecial) {
  const Tokenizer& qwen = vocab_tokenizer("qwen2-reconstructed");
  const std::string prompt = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
  const auto parsed = qwen.encode(prompt, false, true);
  ASSERT_GE(parsed.size(), 6u);
  EXPECT_EQ(parsed[0], 151644);
  EXPECT_EQ(qwen.encode("user\nHi", false, false),
            std::vector<TokenId>(parsed.begin() + 1, parsed.begin() + 4));
  EXPECT_EQ(parsed[4], 151645);
  EXPECT_EQ(parsed.back(), 198);  // "\n" after "assistant"

  const auto plain = qwen.encode(prompt, false, false);
  for (TokenId id : plain) EXPECT_LT(id, 151643) << "special token matched without parse_special";
  EXPECT_EQ(qwen.decode(plain), prompt);
  // User-defined tokens as well.
  EXPECT_EQ(qwen.encode("<tool_call>", false, true), (std::vector<TokenId>{151657}));
  EXPECT_NE(qwen.encode("<tool_call>", false, false), (std::vector<TokenId>{151657}));

  // SPM: the raw text after a special token gets the space prefix again.
  const Tokenizer& spm = vocab_tokenizer("llama-spm");
  EXPECT_EQ(spm.encode("Hello</s>Hello", false, true), (std::vector<TokenId>{15043, 2, 15043}));
  EXPECT_NE(spm.encode("</s>", false, false), (std::vector<TokenId>{2}));
}

TEST(TokenIndex, FindsTextsAndConcatenations) {
  const std::vector<std::string> tokens = {"a", "b", "ab", "", "dup", "abc", "dup"};
  TokenIndex index;
  index.build(tokens);
  EXPECT_EQ(index.find("a"), 0);
  EXPECT_EQ(index.find("ab"), 2);
  EXPECT_EQ(index.find(""), 3);
  EXPECT_EQ(index.find("dup"), 6);  // the last of duplicates
  EXPECT_EQ(index.find("abcd"), kNoToken);
  EXPECT_EQ(index.find_concat("a", "b"), 2);
  EXPECT_EQ(index.find_concat("ab", "c"), 5);
  EXPECT_EQ(index.find_concat("a", "bc"), 5);
  EXPECT_EQ(index.find_concat("", "ab"), 2);
  EXPECT_EQ(index.find_concat("b", "a"), kNoToken);
  // Every token of a real vocabulary is found under its own id (or a later duplicate's).
  const Tokenizer& qwen = vocab_tokenizer("qwen2-reconstructed");
  for (TokenId id = 0; id < qwen.n_tokens(); ++id) {
    const auto found = qwen.find_token(qwen.token_text(id));
    ASSERT_TRUE(found);
    ASSERT_GE(*found, id);
    ASSERT_EQ(qwen.token_text(*found), qwen.token_text(id));
  }
}

TEST(Tokenizer, LongerSpecialTokenWinsOverShorterOne) {
  Vocab v;
  v.model = VocabModel::bpe;
  v.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) v.tokens.push_back(byte_to_unicode_utf8(static_cast<uint8_t>(b)));
  v.tokens.push_back("<a>");
  v.tokens.push_back("<a><b>");
  v.token_types.assign(v.tokens.size(), TokenType::normal);
  v.token_types[256] = v.token_types[257] = TokenType::control;
  const Tokenizer tok(v);
  EXPECT_EQ(tok.encode("x<a><b><a>", false, true),
            (std::vector<TokenId>{tok.find_token("x").value(), 257, 256}));
}

TEST(Tokenizer, DecodeRoundTripsEveryVectorInput) {
  const std::vector<std::string> samples = {"Hello, world!",
                                            "  leading and trailing  ",
                                            "нещо на Български",
                                            "🚀 (normal) 😶‍🌫️ ✅",
                                            "Cửa Việt",
                                            "3.14159 and 1234567",
                                            "tabs\tand\nnewlines\r\n",
                                            "我想在apple工作1314151天～"};
  for (const char* name : kAll) {
    const Tokenizer& tok = vocab_tokenizer(name);
    for (const std::string& s : samples) {
      const auto ids = tok.encode(s, false, false);
      const std::string back = tok.decode(ids);
      if (tok.vocab().model == VocabModel::spm) {
        EXPECT_EQ(back, " " + s) << name;  // the space prefix
      } else {
        EXPECT_EQ(back, s) << name;
      }
    }
  }
}

TEST(Tokenizer, InvalidUtf8InputIsKeptByteForByte) {
  const std::string bad = std::string("ok \xFF\xC3 x \xE2\x82") + "\xF0\x9F\x98";
  for (const char* name : kAll) {
    const Tokenizer& tok = vocab_tokenizer(name);
    std::string bytes;
    for (TokenId id : tok.encode(bad, false, false)) bytes += tok.token_to_piece(id);
    if (tok.vocab().model == VocabModel::spm) bytes.erase(0, 1);
    EXPECT_EQ(bytes, bad) << name;
  }
}

TEST(Tokenizer, TokenToPiece) {
  const Tokenizer& spm = vocab_tokenizer("llama-spm");
  EXPECT_EQ(spm.token_to_piece(15043), " Hello");
  EXPECT_EQ(spm.token_to_piece(13), "\n");  // <0x0A>
  EXPECT_EQ(spm.token_to_piece(2), "");
  EXPECT_EQ(spm.token_to_piece(2, true), "</s>");
  EXPECT_EQ(spm.token_to_piece(-1), "");
  EXPECT_EQ(spm.token_to_piece(32000), "");
  const Tokenizer& qwen = vocab_tokenizer("qwen2-reconstructed");
  EXPECT_EQ(qwen.token_to_piece(qwen.find_token("\xC4\xA0Hello").value()), " Hello");  // "ĠHello"
  EXPECT_EQ(qwen.token_to_piece(151645), "");
  EXPECT_EQ(qwen.token_to_piece(151645, true), "<|im_end|>");
  EXPECT_EQ(qwen.token_to_piece(151657), "<tool_call>");
}

TEST(Tokenizer, EndOfGenerationTokens) {
  const Tokenizer& qwen = vocab_tokenizer("qwen2-reconstructed");
  EXPECT_TRUE(qwen.is_end_of_generation(151645));  // <|im_end|> (eos)
  EXPECT_TRUE(qwen.is_end_of_generation(151643));  // <|endoftext|>
  EXPECT_FALSE(qwen.is_end_of_generation(151644));
  const Tokenizer& l3 = vocab_tokenizer("llama-bpe-reconstructed");
  EXPECT_TRUE(l3.is_end_of_generation(128009));  // <|eot_id|>
  EXPECT_TRUE(l3.is_end_of_generation(128001));
  EXPECT_FALSE(l3.is_end_of_generation(128000));
  const Tokenizer& phi = vocab_tokenizer("phi-3");
  EXPECT_TRUE(phi.is_end_of_generation(phi.find_token("<|end|>").value()));
}

TEST(Tokenizer, LoadVocabErrors) {
  auto load = [](const gguf::GgufWriter& w) {
    const auto bytes = w.to_bytes();
    return load_vocab(gguf::GgufFile::parse(bytes));
  };
  gguf::GgufWriter none;
  none.set_string("general.architecture", "llama");
  auto r = load(none);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("tokenizer.ggml.model"), std::string::npos);

  gguf::GgufWriter bert;
  bert.set_string("tokenizer.ggml.model", "bert");
  r = load(bert);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'bert'"), std::string::npos);

  const std::vector<std::string> toks = {"<unk>", "<s>", "</s>", "a"};
  gguf::GgufWriter scores;
  scores.set_string("tokenizer.ggml.model", "llama");
  scores.set_string_array("tokenizer.ggml.tokens", toks);
  const std::vector<float> three = {0, 0, 0};
  scores.set_f32_array("tokenizer.ggml.scores", three);
  r = load(scores);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("scores"), std::string::npos);

  gguf::GgufWriter bad_id;
  bad_id.set_string("tokenizer.ggml.model", "llama");
  bad_id.set_string_array("tokenizer.ggml.tokens", toks);
  // A special id outside the vocabulary means "none" (stories260K stores 4294967295 for its pad
  // token), as in the reference engine: the file still loads.
  bad_id.set_u32("tokenizer.ggml.eos_token_id", 4);
  bad_id.set_u32("tokenizer.ggml.padding_token_id", 4294967295u);
  r = load(bad_id);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->eos, tokenizer::kNoToken);
  EXPECT_EQ(r->pad, tokenizer::kNoToken);

  bad_id.set_u32("tokenizer.ggml.eos_token_id", 2);
  r = load(bad_id);
  ASSERT_TRUE(r.ok()) << r.error().message;
  // "▁" is no token and there are no byte tokens: each of its 3 bytes falls back to <unk>.
  EXPECT_EQ(Tokenizer(*r).encode("a", true, false), (std::vector<TokenId>{1, 0, 0, 0, 3}));

  EXPECT_THROW(Tokenizer(Vocab{}), std::invalid_argument);
}

// A long, varied text (words, numbers, punctuation, CJK, emoji, whitespace runs).
std::string long_text(size_t n_words) {
  const char* const words[] = {
      "the",     "quick", "brown", "fox",   "jumps",  "over",          "lazy",   "dog",
      "1234567", "3.14",  "über",  "naïve", "日本語", "テキスト",      "🦙",   "!!!",
      "--",      "\n\n",  "   ",   "it's",  "DON'T",  "(parenthesis)", "e-mail", "https://example.com/x?y=z",
      "\t"};
  std::mt19937 rng(42);
  std::string s;
  for (size_t i = 0; i < n_words; ++i) {
    s += words[rng() % std::size(words)];
    s += ' ';
  }
  return s;
}

TEST(Tokenizer, LongInputsRoundTrip) {
  const std::string text = long_text(40000);  // ~250 KB, ~70k tokens
  const std::string one_word(50000, 'a');     // one pre-tokenizer word: the merge heap's worst case
  for (const char* name : {"qwen2-reconstructed", "llama-bpe-reconstructed", "llama-spm"}) {
    const Tokenizer& tok = vocab_tokenizer(name);
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok.encode(text, false, true);
    const auto t1 = std::chrono::steady_clock::now();
    const auto ids2 = tok.encode(one_word, false, false);
    const auto t2 = std::chrono::steady_clock::now();
    const double s1 = std::chrono::duration<double>(t1 - t0).count();
    const double s2 = std::chrono::duration<double>(t2 - t1).count();
    std::printf("%s: %zu bytes -> %zu tokens in %.1f ms (%.2f MB/s); 50000 x 'a' -> %zu tokens in %.1f ms\n",
                name, text.size(), ids.size(), s1 * 1e3, text.size() / s1 / 1e6, ids2.size(), s2 * 1e3);
    // Speed is printed, not asserted (performance lives in benchmarks, not timed tests).
    std::string expect = tok.vocab().model == VocabModel::spm ? " " + text : text;
    EXPECT_EQ(tok.decode(ids), expect);
  }
}

}  // namespace
}  // namespace parley::llm::tokenizer
