#include "llm/runtime/reply_memo.hpp"

#include <algorithm>

namespace parley::llm {

void ReplyMemo::record(Reply reply) {
  if (reply.reply_tokens.empty() || reply.reply_text.empty() || max_entries_ == 0) return;
  std::lock_guard lock(mu_);
  // A reply to the same prompt text replaces the older one (a regenerated answer).
  entries_.remove_if([&](const Reply& r) { return r.prompt_text == reply.prompt_text; });
  entries_.push_front(std::move(reply));
  while (entries_.size() > max_entries_) entries_.pop_back();
}

size_t ReplyMemo::entries() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::optional<std::vector<int32_t>> ReplyMemo::splice(std::string_view text, const std::vector<int32_t>& tokens,
                                                      const tokenizer::Tokenizer& tok) const {
  std::vector<int32_t> head;
  size_t covered = 0;  // bytes of `text` that head stands for
  {
    std::lock_guard lock(mu_);
    const Reply* best = nullptr;
    for (const Reply& r : entries_) {
      const size_t n = r.prompt_text.size() + r.reply_text.size();
      if (n <= covered || n >= text.size()) continue;  // the rest must not be empty
      if (!text.starts_with(r.prompt_text) || text.substr(r.prompt_text.size()).compare(0, r.reply_text.size(), r.reply_text) != 0)
        continue;
      best = &r;
      covered = n;
    }
    if (!best) return std::nullopt;
    head.reserve(best->prompt_tokens.size() + best->reply_tokens.size());
    head = best->prompt_tokens;
    head.insert(head.end(), best->reply_tokens.begin(), best->reply_tokens.end());
  }
  std::vector<int32_t> rest = tok.encode(text.substr(covered), /*add_special=*/false, /*parse_special=*/true);
  if (rest.empty() || rest.size() > tokens.size() || !std::equal(rest.begin(), rest.end(), tokens.end() - static_cast<std::ptrdiff_t>(rest.size())))
    return std::nullopt;
  head.insert(head.end(), rest.begin(), rest.end());
  return head;
}

}  // namespace parley::llm
