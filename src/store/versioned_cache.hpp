// VersionedCache<T>: a bounded, thread-safe LRU map from a chat id to something derived from that
// chat (its rendered JSON, its parsed form, its rendered HTML) together with the owner and the chat
// version it was derived from. It never decides freshness itself: a caller uses an entry only after
// the database confirmed that the chat's version is still the entry's (ChatStore::
// get_chat_if_changed), so several replicas, each with its own cache, never serve a stale chat.
//
//   VersionedCache<std::string> cache(32 << 20);                       // at most 32 MiB of values
//   if (auto hit = cache.find(chat_id, owner)) { ...check hit->version with the store... }
//   cache.put(chat_id, owner, version, std::make_shared<const std::string>(json), json.size());
//
// Cost: one mutex, one hash lookup and a list splice per call; values are shared, never copied.
// Bounded: the least recently used entries go first once the costs passed to put() exceed
// max_cost; a value costing more than max_cost / 8 is not kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::store {

template <typename T>
class VersionedCache {
 public:
  struct Hit {
    int64_t version = 0;
    std::shared_ptr<const T> value;
  };

  explicit VersionedCache(size_t max_cost) : max_cost_(max_cost) {}
  VersionedCache(const VersionedCache&) = delete;
  VersionedCache& operator=(const VersionedCache&) = delete;

  // The entry of this chat, when there is one and it was stored for this owner.
  std::optional<Hit> find(std::string_view chat_id, std::string_view owner) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(chat_id);
    if (it == index_.end() || it->second->owner != owner) return std::nullopt;
    lru_.splice(lru_.begin(), lru_, it->second);
    return Hit{it->second->version, it->second->value};
  }

  // Keeps value as the chat's entry unless the entry already holds a newer version.
  void put(const std::string& chat_id, const std::string& owner, int64_t version, std::shared_ptr<const T> value,
           size_t cost) {
    if (version <= 0 || max_cost_ == 0 || cost > max_cost_ / 8) return;
    std::lock_guard lock(mutex_);
    auto it = index_.find(std::string_view(chat_id));
    if (it != index_.end()) {
      Node& n = *it->second;
      if (n.version > version && n.owner == owner) return;
      cost_ -= n.cost;
      n.owner = owner;
      n.version = version;
      n.value = std::move(value);
      n.cost = cost;
      cost_ += cost;
      lru_.splice(lru_.begin(), lru_, it->second);
    } else {
      lru_.push_front(Node{chat_id, owner, version, std::move(value), cost});
      index_.emplace(std::string_view(lru_.front().chat_id), lru_.begin());
      cost_ += cost;
    }
    while (cost_ > max_cost_ && !lru_.empty()) {
      Node& last = lru_.back();
      cost_ -= last.cost;
      index_.erase(std::string_view(last.chat_id));
      lru_.pop_back();
    }
  }

  void erase(std::string_view chat_id) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(chat_id);
    if (it == index_.end()) return;
    cost_ -= it->second->cost;
    auto node = it->second;
    index_.erase(it);
    lru_.erase(node);
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return index_.size();
  }
  size_t cost() const {
    std::lock_guard lock(mutex_);
    return cost_;
  }
  size_t max_cost() const { return max_cost_; }

 private:
  struct Node {
    std::string chat_id;
    std::string owner;
    int64_t version;
    std::shared_ptr<const T> value;
    size_t cost;
  };
  using List = std::list<Node>;

  const size_t max_cost_;
  mutable std::mutex mutex_;
  List lru_;                                                       // most recently used first
  std::unordered_map<std::string_view, typename List::iterator> index_;  // keys point into lru_ nodes
  size_t cost_ = 0;
};

}  // namespace parley::store
