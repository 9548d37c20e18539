// The properties the tokenizer fuzz targets (tokenizer_spm_fuzz, tokenizer_bpe_fuzz) check on each
// input, shared with the regression tests (tests/llm/fuzz_regressions_test.cpp).
//
// Input: byte 0 picks the vocabulary (built-in ones below, plus GGUF vocabularies named by the
// environment, see load_fuzz_tokenizers), the rest is the text. For every text:
//   - encode (all four add_special / parse_special combinations) gives ids inside the vocabulary,
//     BOS first when add_special asks for it;
//   - decode gives strict UTF-8, and the streaming detokenizer gives the same text piece by piece;
//   - round trip, where the tokenizer promises it (parse_special off, every byte has a token, text
//     well-formed UTF-8): decode(encode(text)) == text (SPM: with its space prefix, U+2581 read as a
//     space); BPE with parse_special on: decode(ids, render_special) == text as well;
//   - BPE: the pre-tokenizer's words tile the text (no byte lost, none empty).
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/fuzz_input.hpp"
#include "llm/gguf/gguf_reader.hpp"
#include "llm/tokenizer/detokenizer.hpp"
#include "llm/tokenizer/tokenizer.hpp"
#include "llm/tokenizer/unicode.hpp"

namespace parley::fuzz {

namespace tk = parley::llm::tokenizer;

// A small SentencePiece-style vocabulary: <unk> <s> </s>, the 256 byte tokens, then pieces scored
// best first (a duplicate text among them, as real vocabularies have).
inline tk::Vocab builtin_spm_vocab() {
  tk::Vocab v;
  v.model = tk::VocabModel::spm;
  auto add = [&](std::string text, tk::TokenType type, float score) {
    v.tokens.push_back(std::move(text));
    v.token_types.push_back(type);
    v.scores.push_back(score);
  };
  add("<unk>", tk::TokenType::unknown, 0);
  add("<s>", tk::TokenType::control, 0);
  add("</s>", tk::TokenType::control, 0);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    add(buf, tk::TokenType::byte, 0);
  }
  const char* pieces[] = {"\xE2\x96\x81", "e", "t", "a", "o", "h", "l", "n", "i", "s", "r", "d", "w", "\xE2\x96\x81t",
                          "he", "\xE2\x96\x81the", "\xE2\x96\x81" "a", "in", "er", "\xE2\x96\x81in", "ll", "lo",
                          "\xE2\x96\x81he", "\xE2\x96\x81hel", "\xE2\x96\x81hell", "\xE2\x96\x81hello", "\xE2\x96\x81w",
                          "or", "\xE2\x96\x81wor", "\xE2\x96\x81world", "\xE2\x96\x81\xE2\x96\x81",
                          "\xE2\x96\x81\xE2\x96\x81\xE2\x96\x81\xE2\x96\x81", "\xC3\xA9", "\xE2\x82\xAC",
                          "\xE6\x97\xA5\xE6\x9C\xAC", "\xE6\x97\xA5", "\xE6\x9C\xAC", "ab", "abc", "bc", "he", "\n",
                          "\n\n", "1", "12", "123", "<", ">", "|"};
  float score = -1;
  for (const char* p : pieces) add(p, tk::TokenType::normal, score -= 1);
  add("<|user|>", tk::TokenType::user_defined, 0);
  v.bos = 1, v.eos = 2, v.unk = 0;
  v.add_bos = true;
  return v;
}

// A small byte-level BPE vocabulary: the 256 mapped bytes, merges over ASCII and multi-byte
// characters, and control / user-defined tokens. `pre` names the pre-tokenizer.
inline tk::Vocab builtin_bpe_vocab(const std::string& pre) {
  tk::Vocab v;
  v.model = tk::VocabModel::bpe;
  v.pre = pre;
  auto mapped = [](std::string_view raw) {
    std::string out;
    for (char c : raw) out += tk::byte_to_unicode_utf8(static_cast<uint8_t>(c));
    return out;
  };
  for (int b = 0; b < 256; ++b) v.tokens.push_back(tk::byte_to_unicode_utf8(static_cast<uint8_t>(b)));
  const std::pair<const char*, const char*> merges[] = {
      {" ", "t"}, {"h", "e"}, {" t", "he"}, {"i", "n"}, {" ", "a"}, {"e", "r"}, {"l", "l"}, {"he", "ll"},
      {"hell", "o"}, {" ", "w"}, {"o", "r"}, {" w", "or"}, {"l", "d"}, {" wor", "ld"}, {"\xC3", "\xA9"},
      {"\xE6", "\x97"}, {"\xE6\x97", "\xA5"}, {"1", "2"}, {"12", "3"}, {"\n", "\n"}, {" ", " "}, {"  ", "  "},
      {"'", "s"}, {" ", "in"}, {"<", "|"}, {"|", ">"}};
  for (const auto& [l, r] : merges) {
    v.merges.push_back(mapped(l) + " " + mapped(r));
    v.tokens.push_back(mapped(std::string(l) + r));
  }
  v.token_types.assign(v.tokens.size(), tk::TokenType::normal);
  auto special = [&](const char* text, tk::TokenType type) {
    v.tokens.emplace_back(text);
    v.token_types.push_back(type);
    return static_cast<tk::TokenId>(v.tokens.size() - 1);
  };
  v.eos = special("<|endoftext|>", tk::TokenType::control);
  special("<|im_start|>", tk::TokenType::control);
  special("<|im_end|>", tk::TokenType::control);
  special("<tool_call>", tk::TokenType::user_defined);
  v.bos = special("<|begin_of_text|>", tk::TokenType::control);
  v.add_bos = pre == "llama3";
  v.add_space_prefix = false;
  return v;
}

// The built-in vocabularies of one model type, then every GGUF file of that type named in the
// environment variable `env` (paths separated by ':'), e.g.
//   PARLEY_FUZZ_SPM_VOCAB=../shared/testdata/tokenizer/ggml-vocab-llama-spm.gguf
inline std::vector<tk::Tokenizer> load_fuzz_tokenizers(tk::VocabModel model, const char* env) {
  std::vector<tk::Tokenizer> out;
  if (model == tk::VocabModel::spm) {
    out.emplace_back(builtin_spm_vocab());
    tk::Vocab no_prefix = builtin_spm_vocab();
    no_prefix.add_space_prefix = false;
    out.emplace_back(std::move(no_prefix));
  } else {
    for (const char* pre : {"gpt2", "llama3", "qwen2", "smollm"}) out.emplace_back(builtin_bpe_vocab(pre));
  }
  const char* paths = env ? std::getenv(env) : nullptr;
  for (std::string_view rest = paths ? paths : ""; !rest.empty();) {
    size_t colon = rest.find(':');
    std::string path(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (path.empty()) continue;
    auto vocab = tk::load_vocab(llm::gguf::GgufFile::open(path));
    if (!vocab.ok()) {
      std::fprintf(stderr, "fuzz: %s: %s\n", path.c_str(), vocab.error().message.c_str());
      std::abort();
    }
    if (vocab->model == model) out.emplace_back(std::move(*vocab));
  }
  return out;
}

// True when every byte can be encoded without <unk> (SPM: all <0xXX> tokens; BPE: all mapped bytes).
inline bool has_every_byte(const tk::Tokenizer& tok) {
  for (int b = 0; b < 256; ++b) {
    std::string text;
    if (tok.vocab().model == tk::VocabModel::spm) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", b);
      text = buf;
    } else {
      text = tk::byte_to_unicode_utf8(static_cast<uint8_t>(b));
    }
    auto id = tok.find_token(text);
    if (!id) return false;
    auto type = tok.token_type(*id);
    if (type == tk::TokenType::control || type == tk::TokenType::unknown || type == tk::TokenType::unused) return false;
  }
  return true;
}

inline std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

inline std::string check_tokenizer_text(const tk::Tokenizer& tok, std::string_view text) {
  const bool spm = tok.vocab().model == tk::VocabModel::spm;
  const bool utf8 = is_strict_utf8(text);
  const bool full_bytes = has_every_byte(tok);
  for (int mode = 0; mode < 4; ++mode) {
    const bool add_special = mode & 1, parse_special = mode & 2;
    const std::vector<tk::TokenId> ids = tok.encode(text, add_special, parse_special);
    for (tk::TokenId id : ids)
      if (id < 0 || id >= tok.n_tokens()) return "encode gave id " + std::to_string(id) + " outside the vocabulary";
    if (add_special && tok.vocab().add_bos && tok.bos() != tk::kNoToken && (ids.empty() || ids[0] != tok.bos()))
      return "add_special did not put BOS first";
    if (!add_special && parse_special == false && text.empty() && !ids.empty()) return "empty text gave tokens";

    const std::string decoded = tok.decode(ids);
    if (!is_strict_utf8(decoded)) return "decode gave ill-formed UTF-8: " + preview(decoded);
    tk::StreamingDetokenizer stream(tok);
    std::string streamed;
    for (tk::TokenId id : ids) streamed += stream.push(id);
    streamed += stream.finish();
    if (streamed != decoded)
      return "streaming detokenizer '" + preview(streamed) + "' differs from decode '" + preview(decoded) + "'";
    if (!utf8 || !full_bytes) continue;

    if (!parse_special) {
      std::string expected(text);
      if (spm) {
        expected = replace_all(expected, "\xE2\x96\x81", " ");
        if (tok.vocab().add_space_prefix && !text.empty()) expected.insert(0, " ");
      }
      if (decoded != expected)
        return std::string("round trip (parse_special off) gave '") + preview(decoded) + "' for '" +
               preview(expected) + "'";
    } else if (!spm) {
      std::vector<tk::TokenId> body = ids;
      if (add_special && tok.vocab().add_bos && !body.empty()) body.erase(body.begin());
      if (add_special && tok.vocab().add_eos && !body.empty()) body.pop_back();
      const std::string rendered = tok.decode(body, true);
      if (rendered != text)
        return "round trip (parse_special on, render_special) gave '" + preview(rendered) + "' for '" +
               preview(text) + "'";
    }
  }
  if (!spm) {
    std::string joined;
    for (std::string_view w : tk::pre_tokenize(tok.pre_tokenizer(), text)) {
      if (w.empty()) return "the pre-tokenizer gave an empty word";
      if (w.data() != text.data() + joined.size()) return "the pre-tokenizer's words are not consecutive";
      joined.append(w);
    }
    if (joined != text) return "the pre-tokenizer's words do not tile the text";
  }
  return {};
}

// One fuzz input: byte 0 picks the tokenizer, the rest is the text.
inline std::string check_tokenizer_input(const std::vector<tk::Tokenizer>& toks, const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const tk::Tokenizer& tok = toks[in.byte() % toks.size()];
  return check_tokenizer_text(tok, in.rest());
}

}  // namespace parley::fuzz
