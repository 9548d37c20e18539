// MarkdownCache: rendered HTML of stored messages, so a chat page does not run md4c over every
// message on every view (rendering is most of a page's CPU). Keyed by message id and checked
// against a hash of the content, so an edited (regenerated) message renders afresh.
//
//   MarkdownCache cache(4096);
//   std::string html = cache.render(message.id, message.content);   // render_markdown, memoized
//
// Thread-safe: 16 shards, each a mutex and a map; a full shard drops an arbitrary entry. Bounded:
// at most `capacity` entries, none larger than 64 KiB of HTML. Cost of a hit: one hash of the
// content (~0.1 ns/byte) and a copy of the HTML.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::services::ui {

class MarkdownCache {
 public:
  explicit MarkdownCache(size_t capacity = 4096) : per_shard_(capacity / kShards + 1) {}

  std::string render(std::string_view key, std::string_view markdown);
  size_t size() const;

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxHtmlBytes = 64 * 1024;
  struct Entry {
    uint64_t content_hash;
    std::string html;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;
  };
  size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace parley::services::ui
