#include "store/version_batch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <unordered_set>
#include <vector>

namespace parley::store {
namespace asio = boost::asio;

struct VersionBatcher::Waiter {
  Waiter(asio::any_io_executor ex, std::string id, std::string own)
      : chat_id(std::move(id)), owner(std::move(own)), done(std::move(ex), 1) {}
  std::string chat_id, owner;
  Result<std::optional<int64_t>> result = std::optional<int64_t>();
  asio::experimental::concurrent_channel<void(boost::system::error_code)> done;
};

VersionBatcher::VersionBatcher(asio::any_io_executor executor, Query query, size_t max_batch)
    : executor_(std::move(executor)), query_(std::move(query)), max_batch_(max_batch == 0 ? 1 : max_batch) {}

void VersionBatcher::enqueue(std::vector<std::shared_ptr<Waiter>> waiters) {
  bool start = false;
  {
    std::lock_guard lock(mu_);
    for (auto& w : waiters) queue_.push_back(std::move(w));
    if (!running_) running_ = start = true;
  }
  if (start) asio::co_spawn(executor_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

asio::awaitable<Result<std::optional<int64_t>>> VersionBatcher::version(std::string chat_id, std::string owner) {
  auto w = std::make_shared<Waiter>(co_await asio::this_coro::executor, std::move(chat_id), std::move(owner));
  enqueue({w});
  boost::system::error_code ec;
  co_await w->done.async_receive(asio::redirect_error(asio::use_awaitable, ec));
  checks_.fetch_add(1);
  co_return std::move(w->result);
}

asio::awaitable<Result<std::vector<std::optional<int64_t>>>> VersionBatcher::versions(std::vector<Check> checks) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<std::shared_ptr<Waiter>> waiters;
  waiters.reserve(checks.size());
  for (Check& c : checks) waiters.push_back(std::make_shared<Waiter>(ex, std::move(c.chat_id), std::move(c.owner)));
  enqueue(waiters);
  std::vector<std::optional<int64_t>> out;
  out.reserve(waiters.size());
  std::optional<Error> error;
  for (const auto& w : waiters) {  // every waiter is awaited: each is answered before we return
    boost::system::error_code ec;
    co_await w->done.async_receive(asio::redirect_error(asio::use_awaitable, ec));
    checks_.fetch_add(1);
    if (!w->result) {
      if (!error) error = w->result.error();
    } else {
      out.push_back(*w->result);
    }
  }
  if (error) co_return *error;
  co_return out;
}

// Takes everything queued (up to max_batch), asks once, answers each; until the queue is empty.
asio::awaitable<void> VersionBatcher::run() {
  for (;;) {
    std::vector<std::shared_ptr<Waiter>> batch;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) {
        running_ = false;
        co_return;
      }
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<Check> checks;
    std::unordered_set<std::string> asked;  // chat id + '\0' + owner
    for (const auto& w : batch)
      if (asked.insert(w->chat_id + '\0' + w->owner).second) checks.push_back({w->chat_id, w->owner});
    Result<Versions> rows = make_error(ErrorCode::internal, "version check failed");
    try {
      rows = co_await query_(std::move(checks));
    } catch (const std::exception& e) {
      rows = make_error(ErrorCode::internal, std::string("version check failed: ") + e.what());
    }
    queries_.fetch_add(1);
    for (const auto& w : batch) {
      if (!rows) {
        w->result = rows.error();
      } else if (auto it = rows->find(w->chat_id); it != rows->end() && it->second.owner == w->owner) {
        w->result = std::optional<int64_t>(it->second.version);
      }
      w->done.try_send(boost::system::error_code{});
    }
  }
}

}  // namespace parley::store
