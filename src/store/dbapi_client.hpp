// ChatStore over HTTP: the client side of db-api's /v1 routes (services/dbapi), so that a UI in
// another process uses the same seam as one with an in-process store. The owner travels in
// X-Parley-Owner, the service token as a bearer token. Error statuses come back as the same
// Result codes the store behind db-api produced; an unreachable db-api (refused, timeout, broken
// connection) is `unavailable`. Posting a message with a client_key may be retried safely, so it is
// marked idempotent for the HTTP client's retry-on-stale-connection.
//
// Chats read are kept (parsed, bounded LRU of cache_bytes) with their version; the next read of a
// chat asks db-api for its version first, together with the checks of the other pages being
// rendered at the same moment (one `POST /v1/chat-versions`, store/version_batch.hpp), and reads
// the chat (with If-None-Match) only when it changed. A copy is never used without a check that
// started after the read was asked for. A db-api without that route (an older release during a
// rolling upgrade) is noticed once; reads then use If-None-Match alone.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>
#include <string>

#include "store/chat_store.hpp"
#include "store/versioned_cache.hpp"

namespace parley::net {
class HttpClient;
}

namespace parley::store {

class VersionBatcher;

struct DbApiClientOptions {
  std::string base_url;       // "http://db-api:8081" (no trailing slash needed)
  std::string service_token;  // PARLEY_SERVICE_TOKEN
  StoreLimits limits;         // checked here too, before a request is sent
  size_t cache_bytes = 16 << 20;  // chats kept for If-None-Match (about their JSON size); 0: none
};

class DbApiChatStore final : public ChatStore {
 public:
  // `client` must outlive the store.
  DbApiChatStore(net::HttpClient& client, DbApiClientOptions options);
  ~DbApiChatStore() override;

  Async<Unit> check_ready() override;  // GET /readyz
  // Version checks of cached chats: batch requests sent, checks answered (tests).
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
  struct Reply;
  boost::asio::awaitable<Reply> call(int method, std::string path, const std::string& owner, std::string body,
                                     bool idempotent, int64_t if_none_match = 0);

  net::HttpClient& client_;
  DbApiClientOptions options_;
  VersionedCache<ChatWithMessages> chats_;
  std::shared_ptr<VersionBatcher> versions_;
  std::atomic<bool> no_versions_route_{false};
};

}  // namespace parley::store
