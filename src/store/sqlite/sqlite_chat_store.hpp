// ChatStore on an SQLite file (the embedded default). WAL mode, so readers never wait for the
// writer; every call runs on a bounded thread pool (one connection per pool thread) and writes are
// serialized in-process by a mutex (across processes by SQLite's lock plus a busy timeout).
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/chat_store.hpp"
#include "store/migration.hpp"

namespace parley::store::sqlite {

class SqliteDb;

struct SqliteOptions {
  int threads = 4;               // pool threads = connections
  int busy_timeout_ms = 5000;    // waiting for another process's write lock; then unavailable
  StoreLimits limits;
};

// Applies the missing migrations under BEGIN IMMEDIATE (safe when several processes start at once).
MigrationReport migrate_sqlite(SqliteDb& db);

class SqliteChatStore final : public ChatStore {
 public:
  // Opens/creates the file and migrates it. Throws std::runtime_error when it cannot.
  SqliteChatStore(const std::string& path, SqliteOptions options = {});
  ~SqliteChatStore() override;

  const MigrationReport& migration_report() const { return migration_; }

  Async<Unit> check_ready() override;

 protected:
  Async<Chat> do_create_chat(const std::string& owner, NewChat chat) override;
  Async<ChatPage> do_list_chats(const std::string& owner, ListChatsQuery query) override;
  Async<ChatWithMessages> do_get_chat(const std::string& owner, const std::string& chat_id) override;
  Async<Chat> do_update_chat(const std::string& owner, const std::string& chat_id, ChatPatch patch) override;
  Async<Unit> do_delete_chat(const std::string& owner, const std::string& chat_id) override;
  Async<AppendResult> do_append_message(const std::string& owner, const std::string& chat_id,
                                        NewMessage message) override;
  Async<Message> do_update_message(const std::string& owner, const std::string& chat_id,
                                   const std::string& message_id, MessagePatch patch) override;

 private:
  class Lease;
  // Runs fn(SqliteDb&) -> Result<R> on the pool with a connection; maps busy/locked to unavailable.
  // fn must outlive the returned awaitable (a named local of the calling coroutine).
  template <typename R, typename F>
  boost::asio::awaitable<std::optional<Result<R>>> with_db(F& fn);

  std::string path_;
  SqliteOptions options_;
  MigrationReport migration_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<SqliteDb>> idle_;
  std::mutex write_mutex_;
  boost::asio::thread_pool pool_;
};

}  // namespace parley::store::sqlite
