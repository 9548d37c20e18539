// ReplyMemo: the next turn of a chat reuses the tokens the model generated for the last reply.
//
// A chat client sends the whole conversation again on every turn, the last reply as the text it
// received. Encoding that text again rarely gives back the tokens the model generated (a model may
// emit "a"+"b" where the tokenizer merges "ab", bytes that were shown as U+FFFD, a leading space
// that was stripped), so the engine's prefix cache (token based) would stop at the start of the
// reply and evaluate it again. The memo keeps, for recent replies: the rendered prompt text and
// the tokens submitted for it, the reply's tokens and the reply text as delivered. A new prompt
// whose text begins with prompt text + reply text is submitted as those tokens followed by the
// encoding of the rest, so the KV cache of the whole earlier conversation is reused.
//
// The splice is taken only when it is exact where it joins: the rest encoded alone equals the tail
// of the whole prompt's ordinary encoding (a chat template puts an end-of-turn special token there).
// Cost: one string comparison per remembered reply and one encoding of the rest. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/tokenizer/tokenizer.hpp"

namespace parley::llm {

class ReplyMemo {
 public:
  static constexpr size_t kDefaultEntries = 64;

  struct Reply {
    std::string prompt_text;             // the rendered prompt as encoded (special tokens as text)
    std::vector<int32_t> prompt_tokens;  // what was submitted for it
    std::vector<int32_t> reply_tokens;   // the tokens handed out (not the end-of-turn token)
    std::string reply_text;              // the text handed out for them
  };

  explicit ReplyMemo(size_t max_entries = kDefaultEntries) : max_entries_(max_entries) {}

  void record(Reply reply);

  // `text` is a rendered prompt and `tokens` its ordinary encoding (add_special, parse_special).
  // Returns the prompt with the longest matching remembered reply spliced in, nullopt when none
  // applies (then submit `tokens`).
  std::optional<std::vector<int32_t>> splice(std::string_view text, const std::vector<int32_t>& tokens,
                                             const tokenizer::Tokenizer& tok) const;

  size_t entries() const;

 private:
  mutable std::mutex mu_;
  std::list<Reply> entries_;  // most recent first
  size_t max_entries_;
};

}  // namespace parley::llm
