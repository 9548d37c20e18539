// ChatStore over HTTP: the client side of db-api's /v1 routes (services/dbapi), so that a UI in
// another process uses the same seam as one with an in-process store. The owner travels in
// X-Parley-Owner, the service token as a bearer token. Error statuses come back as the same
// Result codes the store behind db-api produced; an unreachable db-api (refused, timeout, broken
// connection) is `unavailable`. Posting a message with a client_key may be retried safely, so it is
// marked idempotent for the HTTP client's retry-on-stale-connection.
#pragma once

#include <string>

#include "store/chat_store.hpp"

namespace parley::net {
class HttpClient;
}

namespace parley::store {

struct DbApiClientOptions {
  std::string base_url;       // "http://db-api:8081" (no trailing slash needed)
  std::string service_token;  // PARLEY_SERVICE_TOKEN
  StoreLimits limits;         // checked here too, before a request is sent
};

class DbApiChatStore final : public ChatStore {
 public:
  // `client` must outlive the store.
  DbApiChatStore(net::HttpClient& client, DbApiClientOptions options);

  Async<Unit> check_ready() override;  // GET /readyz

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
  struct Reply;
  boost::asio::awaitable<Reply> call(int method, std::string path, const std::string& owner, std::string body,
                                     bool idempotent);

  net::HttpClient& client_;
  DbApiClientOptions options_;
};

}  // namespace parley::store
