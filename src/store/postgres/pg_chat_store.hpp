// ChatStore on PostgreSQL through libpq, without blocking the event loop: a pool of connections
// (pg_pool.hpp), every hot operation one prepared statement (one round trip; CTEs keep the
// multi-table ones atomic), reconnection by itself after the server restarts, and `unavailable`
// while the server cannot be reached.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "store/chat_store.hpp"
#include "store/migration.hpp"

namespace parley::store {
class VersionBatcher;
}

namespace parley::store::postgres {

class PgPool;

struct PostgresOptions {
  std::string conninfo;  // "postgres://user:pw@host:port/db" or "host=... port=..." (libpq syntax)
  int pool_size = 8;  // plus one connection for the version checks of cached chats
  std::chrono::milliseconds connect_timeout{5000};
  StoreLimits limits;
};

// libpq conninfo from POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USERNAME (or POSTGRES_USER),
// POSTGRES_PASSWORD, POSTGRES_DATABASE; nullopt when POSTGRES_HOST is not set.
std::optional<std::string> conninfo_from_environment();

// Applies the missing migrations (blocking; start-up only) holding a session advisory lock, so
// replicas starting at once apply each migration exactly once. Throws std::runtime_error.
MigrationReport migrate_postgres(const std::string& conninfo);

class PostgresChatStore final : public ChatStore {
 public:
  // Does not connect: connections open on demand. Call migrate_postgres first.
  PostgresChatStore(boost::asio::any_io_executor executor, PostgresOptions options);
  ~PostgresChatStore() override;

  Async<Unit> check_ready() override;
  int64_t connects() const;  // connections opened so far (tests of reconnection)
  // Version checks of get_chat_if_changed: batch queries run, checks answered (tests).
  std::pair<int64_t, int64_t> version_checks() const;

 protected:
  Async<Chat> do_create_chat(const std::string& owner, NewChat chat) override;
  Async<ChatPage> do_list_chats(const std::string& owner, ListChatsQuery query) override;
  Async<ChatWithMessages> do_get_chat(const std::string& owner, const std::string& chat_id) override;
  Async<std::optional<ChatWithMessages>> do_get_chat_if_changed(const std::string& owner, const std::string& chat_id,
                                                                int64_t known_version) override;
  Async<std::vector<std::optional<int64_t>>> do_chat_versions(std::vector<ChatRef> refs) override;
  Async<Chat> do_update_chat(const std::string& owner, const std::string& chat_id, ChatPatch patch) override;
  Async<Unit> do_delete_chat(const std::string& owner, const std::string& chat_id) override;
  Async<AppendResult> do_append_message(const std::string& owner, const std::string& chat_id,
                                        NewMessage message) override;
  Async<Message> do_update_message(const std::string& owner, const std::string& chat_id,
                                   const std::string& message_id, MessagePatch patch) override;

 private:
  // fn: a named closure of the caller (g++ 12 mishandles closures passed by value to coroutines).
  // pool: pool_ when null.
  template <typename R, typename F>
  Async<R> with_connection(F& fn, PgPool* pool = nullptr);

  PostgresOptions options_;
  std::unique_ptr<PgPool> pool_;
  // One more connection, the version checks' own (one batch in flight at a time): its session
  // forces a generic plan (pg_statements.hpp), which the other statements must not get.
  std::unique_ptr<PgPool> version_pool_;
  std::shared_ptr<VersionBatcher> versions_;
};

}  // namespace parley::store::postgres
