#include "llm/tokenizer/detokenizer.hpp"

#include "llm/tokenizer/unicode.hpp"

namespace parley::llm::tokenizer {

std::string Utf8Stream::push(std::string_view bytes) {
  std::string buf;
  if (pending_.empty()) {
    buf.assign(bytes);
  } else {
    buf = std::move(pending_);
    buf.append(bytes);
    pending_.clear();
  }
  std::string out;
  out.reserve(buf.size());
  for (size_t i = 0; i < buf.size();) {
    const Utf8Step st = utf8_step(buf, i);
    if (st.kind == Utf8Step::incomplete) {
      pending_.assign(buf, i, std::string::npos);
      break;
    }
    if (st.kind == Utf8Step::complete) {
      out.append(buf, i, st.len);
    } else {
      append_utf8(out, kReplacementChar);
    }
    i += st.len;
  }
  return out;
}

std::string Utf8Stream::finish() {
  std::string out;
  if (!pending_.empty()) append_utf8(out, kReplacementChar);
  pending_.clear();
  return out;
}

StreamingDetokenizer::StreamingDetokenizer(Tokenizer tokenizer, Options options)
    : tokenizer_(std::move(tokenizer)), options_(options) {}

std::string StreamingDetokenizer::strip(std::string text) {
  if (at_start_ && !text.empty()) {
    at_start_ = false;
    if (options_.strip_leading_space && text.front() == ' ') text.erase(0, 1);
  }
  return text;
}

std::string StreamingDetokenizer::push(TokenId id) {
  return strip(stream_.push(tokenizer_.token_to_piece(id, options_.render_special)));
}

std::string StreamingDetokenizer::finish() { return strip(stream_.finish()); }

}  // namespace parley::llm::tokenizer
