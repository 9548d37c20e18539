// Streaming detokenization: generated tokens -> text pieces that are always whole, well-formed
// UTF-8. A token may end in the middle of a character (byte tokens, BPE pieces of a multi-byte
// character); those bytes wait for the next token. Ill-formed bytes become U+FFFD (one per maximal
// ill-formed subpart, the Unicode recommendation), and so does an incomplete character left when
// the stream ends.
#pragma once

#include <string>
#include <string_view>

#include "llm/tokenizer/tokenizer.hpp"

namespace parley::llm::tokenizer {

// The byte-level part: bytes in, well-formed UTF-8 out. O(bytes).
class Utf8Stream {
 public:
  // Appends bytes; returns the text that is now complete.
  std::string push(std::string_view bytes);
  // End of stream: returns U+FFFD if a character was left incomplete, else "". Resets the stream.
  std::string finish();
  bool has_pending() const { return !pending_.empty(); }

 private:
  std::string pending_;  // at most 3 bytes: a well-formed prefix of a character
};

class StreamingDetokenizer {
 public:
  struct Options {
    bool render_special = false;       // show control tokens' text (normally they show nothing)
    bool strip_leading_space = false;  // drop one space at the very start (SPM's "▁Hello" -> "Hello")
  };
  explicit StreamingDetokenizer(Tokenizer tokenizer)
      : StreamingDetokenizer(std::move(tokenizer), Options{}) {}
  StreamingDetokenizer(Tokenizer tokenizer, Options options);

  // The text completed by this token (often the token's text; "" while a character is incomplete).
  std::string push(TokenId id);
  std::string finish();

 private:
  std::string strip(std::string text);

  Tokenizer tokenizer_;
  Options options_;
  Utf8Stream stream_;
  bool at_start_ = true;
};

}  // namespace parley::llm::tokenizer
