// OutputStream: generated tokens -> the text the user sees, and when to stop.
//
// Per token it detokenizes (whole UTF-8 characters only, see tokenizer/detokenizer.hpp), holds back
// text that may start a stop string, and decides the finish: a stop token (end of turn / EOS, not
// shown), a stop string (text cut before it), or the maximum number of tokens. The engine calls
// push() for each sampled token until finish != none, or finish() if it ends the stream itself
// (cancelled, context full).
#pragma once

#include <string>
#include <vector>

#include "llm/sample/stop_strings.hpp"
#include "llm/tokenizer/detokenizer.hpp"

namespace parley::llm::sample {

using tokenizer::TokenId;

enum class FinishReason { none, stop, length };
const char* finish_reason_name(FinishReason r);  // "", "stop", "length" (OpenAI's names)

struct StopConfig {
  std::vector<TokenId> stop_tokens;       // e.g. chat::stop_token_ids(template, tokenizer)
  std::vector<std::string> stop_strings;  // the request's "stop"
  int32_t max_tokens = -1;                // < 0: no limit
  tokenizer::StreamingDetokenizer::Options detokenizer{};
};

class OutputStream {
 public:
  OutputStream(tokenizer::Tokenizer tokenizer, StopConfig config);

  struct Step {
    std::string text;  // may be empty (a character or a possible stop string is incomplete)
    FinishReason finish = FinishReason::none;
  };
  // One generated token. After a finish, further calls return an empty step with the same finish.
  Step push(TokenId id);
  // The stream ends without a stop (cancelled, context full): the held-back text.
  std::string finish();

  int32_t n_tokens() const { return n_tokens_; }  // tokens pushed, stop token included
  FinishReason finish_reason() const { return finish_; }

 private:
  std::string drain();  // detokenizer tail through the matcher, then the matcher's held text

  tokenizer::StreamingDetokenizer detok_;
  StopStringMatcher matcher_;
  std::vector<TokenId> stop_tokens_;  // sorted
  int32_t max_tokens_;
  int32_t n_tokens_ = 0;
  FinishReason finish_ = FinishReason::none;
};

}  // namespace parley::llm::sample
