#include "llm/tokenizer/tokenizer.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "llm/tokenizer/tokenizer_impl.hpp"
#include "llm/tokenizer/unicode.hpp"

namespace parley::llm::tokenizer {

namespace {

// Texts of the tokens that end a turn in the usual chat formats.
constexpr std::string_view kEndOfTurnTexts[] = {
    "<|eot_id|>",    "<|eom_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",
    "<|endoftext|>", "<|end_of_text|>", "<EOT>",      "<|EOT|>", "</s>",
};

void build_bpe_tables(Tokenizer::Impl& m) {
  for (int b = 0; b < 256; ++b) m.bpe_byte_tokens[b] = m.find(byte_to_unicode_utf8(static_cast<uint8_t>(b)));
  m.merges.reserve(m.vocab.merges.size() * 2);
  int32_t rank = 0;
  for (const std::string& line : m.vocab.merges) {
    // "left right": the separator is the first space after the first character.
    const size_t sp = line.find(' ', 1);
    if (sp == std::string::npos) {
      ++rank;
      continue;
    }
    const std::string_view left(line.data(), sp), right(line.data() + sp + 1, line.size() - sp - 1);
    const TokenId l = m.find(left), r = m.find(right);
    const TokenId res = m.text_to_id.find_concat(left, right);
    // A merge whose parts or result are not tokens can never produce a token: skipped.
    if (l != kNoToken && r != kNoToken && res != kNoToken) {
      const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
      m.merges.try_emplace(key, BpeMerge{rank, res});  // the first (best) rank of a pair wins
    }
    ++rank;
  }
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) {
  if (Status s = validate_vocab(vocab); !s) throw std::invalid_argument(s.error().message);
  auto m = std::make_shared<Impl>();
  m->vocab = std::move(vocab);
  const Vocab& v = m->vocab;
  const int32_t n = v.n_tokens();
  m->text_to_id.build(v.tokens);

  for (TokenId id = 0; id < n; ++id) {
    const TokenType t = v.type_of(id);
    if ((t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown) &&
        !v.tokens[static_cast<size_t>(id)].empty()) {
      m->special_tokens.push_back(id);
    }
  }
  std::stable_sort(m->special_tokens.begin(), m->special_tokens.end(), [&](TokenId a, TokenId b) {
    return v.tokens[static_cast<size_t>(a)].size() > v.tokens[static_cast<size_t>(b)].size();
  });

  m->is_eog.assign(static_cast<size_t>(n), false);
  for (TokenId id : {v.eos, v.eot, v.eom}) {
    if (id != kNoToken) m->is_eog[static_cast<size_t>(id)] = true;
  }
  for (std::string_view text : kEndOfTurnTexts) {
    const TokenId id = m->find(text);
    if (id != kNoToken && v.type_of(id) == TokenType::control) m->is_eog[static_cast<size_t>(id)] = true;
  }
  for (TokenId id = 0; id < n; ++id) {
    if (m->is_eog[static_cast<size_t>(id)]) m->eog_tokens.push_back(id);
  }

  if (v.model == VocabModel::spm) {
    for (int b = 0; b < 256; ++b) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", b);
      const TokenId id = m->find(buf);
      m->byte_tokens[b] = id != kNoToken ? id : v.unk;
    }
  } else {
    m->pre = pre_tokenizer_from_name(v.pre);
    m->ignore_merges = m->pre == PreTokenizer::llama3;
    build_bpe_tables(*m);
  }
  impl_ = std::move(m);
}

const Vocab& Tokenizer::vocab() const { return impl_->vocab; }
int32_t Tokenizer::n_tokens() const { return impl_->vocab.n_tokens(); }
PreTokenizer Tokenizer::pre_tokenizer() const { return impl_->pre; }
TokenId Tokenizer::bos() const { return impl_->vocab.bos; }
TokenId Tokenizer::eos() const { return impl_->vocab.eos; }

std::optional<TokenId> Tokenizer::find_token(std::string_view text) const {
  const TokenId id = impl_->find(text);
  if (id == kNoToken) return std::nullopt;
  return id;
}

const std::string& Tokenizer::token_text(TokenId id) const {
  return impl_->vocab.tokens.at(static_cast<size_t>(id));
}

TokenType Tokenizer::token_type(TokenId id) const {
  if (id < 0 || id >= n_tokens()) return TokenType::undefined;
  return impl_->vocab.type_of(id);
}

bool Tokenizer::is_end_of_generation(TokenId id) const {
  return id >= 0 && id < n_tokens() && impl_->is_eog[static_cast<size_t>(id)];
}

const std::vector<TokenId>& Tokenizer::end_of_generation_tokens() const { return impl_->eog_tokens; }

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  encode(text, add_special, parse_special, out);
  return out;
}

namespace {

// A piece of the input: raw text, or a special token found in it.
struct Fragment {
  TokenId token = kNoToken;  // kNoToken: raw text
  std::string_view text;
};

// Cuts every special token out of the raw fragments, longest token text first (so a longer token
// wins over a shorter one it contains). O(#special tokens * text length) in the worst case, with
// memchr-speed searches.
std::vector<Fragment> partition_special(const Tokenizer::Impl& m, std::string_view text) {
  std::vector<Fragment> frags{{kNoToken, text}};
  std::vector<Fragment> next;
  for (TokenId id : m.special_tokens) {
    const std::string& tok = m.vocab.tokens[static_cast<size_t>(id)];
    bool found = false;
    for (const Fragment& f : frags) {
      if (f.token == kNoToken && f.text.find(tok) != std::string_view::npos) {
        found = true;
        break;
      }
    }
    if (!found) continue;
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token != kNoToken) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      for (size_t pos; (pos = rest.find(tok)) != std::string_view::npos;) {
        if (pos > 0) next.push_back({kNoToken, rest.substr(0, pos)});
        next.push_back({id, tok});
        rest.remove_prefix(pos + tok.size());
      }
      if (!rest.empty()) next.push_back({kNoToken, rest});
    }
    frags.swap(next);
  }
  return frags;
}

}  // namespace

void Tokenizer::encode(std::string_view text, bool add_special, bool parse_special,
                       std::vector<TokenId>& out) const {
  const Impl& m = *impl_;
  const Vocab& v = m.vocab;
  if (add_special && v.add_bos && v.bos != kNoToken) out.push_back(v.bos);

  std::vector<Fragment> frags;
  if (parse_special) {
    frags = partition_special(m, text);
  } else if (!text.empty()) {
    frags.push_back({kNoToken, text});
  }
  bool prev_special = true;  // SPM: the first fragment gets the space prefix
  for (const Fragment& f : frags) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    if (v.model == VocabModel::spm) {
      m.encode_spm(f.text, v.add_space_prefix && prev_special, out);
    } else {
      m.encode_bpe(f.text, out);
    }
    prev_special = false;
  }
  if (add_special && v.add_eos && v.eos != kNoToken) out.push_back(v.eos);
}

std::string Tokenizer::token_to_piece(TokenId id, bool render_special) const {
  const Impl& m = *impl_;
  if (id < 0 || id >= n_tokens()) return {};
  const std::string& text = m.vocab.tokens[static_cast<size_t>(id)];
  switch (m.vocab.type_of(id)) {
    case TokenType::control:
    case TokenType::unknown:
    case TokenType::unused:
      return render_special ? text : std::string();
    case TokenType::user_defined:
      return text;
    case TokenType::byte: {
      // "<0xXX>" -> the byte; any other text is shown as is.
      auto hex = [](char c) {
        return c >= '0' && c <= '9'                     ? c - '0'
               : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                        : -1;
      };
      if (text.size() == 6 && text.starts_with("<0x") && text.back() == '>' && hex(text[3]) >= 0 &&
          hex(text[4]) >= 0) {
        return std::string(1, static_cast<char>(hex(text[3]) * 16 + hex(text[4])));
      }
      return text;
    }
    case TokenType::normal:
    case TokenType::undefined:
      break;
  }
  std::string out;
  out.reserve(text.size());
  if (m.vocab.model == VocabModel::spm) {
    // U+2581 (E2 96 81) -> space.
    for (size_t i = 0; i < text.size(); ++i) {
      if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
        out += ' ';
        i += 2;
      } else {
        out += text[i];
      }
    }
    return out;
  }
  // Byte-level BPE: each code point stands for one byte; a code point outside the map is kept.
  for (size_t i = 0; i < text.size();) {
    const Utf8Step st = utf8_step(text, i);
    const int b = st.kind == Utf8Step::complete ? unicode_to_byte(st.cp) : -1;
    if (b >= 0) {
      out += static_cast<char>(b);
    } else {
      out.append(text, i, st.len);
    }
    i += st.len;
  }
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool render_special) const {
  std::string bytes;
  for (TokenId id : ids) bytes += token_to_piece(id, render_special);
  return sanitize_utf8(bytes);
}

}  // namespace parley::llm::tokenizer
