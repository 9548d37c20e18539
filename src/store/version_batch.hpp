// VersionBatcher: the "has this chat changed?" checks of concurrent requests, answered by one query.
//
// A cached chat is served only after its version was confirmed by the database (so replicas never
// serve a stale chat). Asked one by one, that is a round trip per page. Here the checks that arrive
// while a query runs wait for the next one, which asks for all of them at once: under load one
// query answers tens of requests, idle it costs one coroutine hop. Freshness is unchanged: every
// check is answered by a query that started after the check was asked for. Two users: db-api on
// PostgreSQL (one `WHERE id = ANY(...)` statement) and the UI's db-api client (one
// `POST /v1/chat-versions` for all the pages it is rendering).
//
//   auto v = co_await batcher->version(chat_id, owner);   // Result<std::optional<int64_t>>
//
// One query runs at a time, with at most max_batch checks. Thread-safe; callers on any executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "store/chat_store.hpp"

namespace parley::store {

class VersionBatcher : public std::enable_shared_from_this<VersionBatcher> {
 public:
  struct Row {
    std::string owner;
    int64_t version = 0;
  };
  using Versions = std::unordered_map<std::string, Row>;  // chat id -> owner, version
  using Check = ChatRef;
  // Looks up the chats asked for (each chat id once); the answer may leave out chats that do not
  // exist or are another owner's. An error (unavailable) when the database cannot be reached.
  using Query = std::function<boost::asio::awaitable<Result<Versions>>(std::vector<Check> checks)>;

  VersionBatcher(boost::asio::any_io_executor executor, Query query, size_t max_batch = 256);

  // The chat's version, nullopt when it does not exist or belongs to another owner. chat_id must
  // be a valid chat id (no ',').
  boost::asio::awaitable<Result<std::optional<int64_t>>> version(std::string chat_id, std::string owner);
  // Several checks at once (queued together, answered by the same query when they fit in one).
  boost::asio::awaitable<Result<std::vector<std::optional<int64_t>>>> versions(std::vector<Check> checks);

  int64_t queries() const { return queries_.load(); }  // batch queries run so far
  int64_t checks() const { return checks_.load(); }    // version() calls answered

 private:
  struct Waiter;
  void enqueue(std::vector<std::shared_ptr<Waiter>> waiters);
  boost::asio::awaitable<void> run();

  boost::asio::any_io_executor executor_;
  Query query_;
  size_t max_batch_;
  std::mutex mu_;
  std::deque<std::shared_ptr<Waiter>> queue_;
  bool running_ = false;
  std::atomic<int64_t> queries_{0}, checks_{0};
};

}  // namespace parley::store
