#include <algorithm>

#include "llm/chat/chat_template.hpp"

namespace parley::llm::chat {

std::vector<tokenizer::TokenId> stop_token_ids(const ChatTemplate& tmpl, const tokenizer::Tokenizer& tok) {
  std::vector<tokenizer::TokenId> ids = tok.end_of_generation_tokens();
  for (const std::string& text : tmpl.end_of_turn) {
    if (auto id = tok.find_token(text)) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace parley::llm::chat
