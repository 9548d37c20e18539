#include "services/ui/markdown_cache.hpp"

#include <functional>

#include "services/ui/markdown.hpp"

namespace parley::services::ui {

std::string MarkdownCache::render(std::string_view key, std::string_view markdown) {
  const uint64_t content_hash = std::hash<std::string_view>{}(markdown) ^ (markdown.size() * 0x9E3779B97F4A7C15ull);
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.entries.find(std::string(key));
    if (it != shard.entries.end() && it->second.content_hash == content_hash) return it->second.html;
  }
  std::string html = render_markdown(markdown);
  if (html.size() <= kMaxHtmlBytes && !key.empty()) {
    std::lock_guard lock(shard.mutex);
    if (shard.entries.size() >= per_shard_) shard.entries.erase(shard.entries.begin());
    shard.entries.insert_or_assign(std::string(key), Entry{content_hash, html});
  }
  return html;
}

size_t MarkdownCache::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.entries.size();
  }
  return n;
}

}  // namespace parley::services::ui
