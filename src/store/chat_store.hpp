// ChatStore: the seam between the services and wherever chats live (SQLite, PostgreSQL, or db-api
// over HTTP). Every operation is scoped to an owner: another owner's chat is reported exactly like a
// chat that does not exist (not_found). Errors the caller handles are values (Result<T>):
//   not_found        chat/message missing or owned by someone else
//   invalid_argument input rejected by store/validation.hpp (same rules for every implementation)
//   conflict         a uniqueness rule was broken (compat username already has a chat)
//   unavailable      the database (or db-api) cannot be reached right now; retry later
// Every operation is a coroutine on the caller's event loop; implementations never block it
// (SQLite runs on a bounded thread pool, PostgreSQL uses libpq's non-blocking API).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace parley::store {

enum class Role { system, user, assistant };
enum class MessageStatus { complete, partial, error };

const char* to_string(Role role);
const char* to_string(MessageStatus status);
std::optional<Role> parse_role(std::string_view text);
std::optional<MessageStatus> parse_status(std::string_view text);

// Times are milliseconds since the Unix epoch (UTC).
using TimeMs = int64_t;

struct Chat {
  std::string id;        // "chat_" + 32 lowercase hex digits, assigned by the store
  int64_t number = 0;    // small integer, unique per database, assigned by the store (compat ids)
  std::string owner;
  std::optional<std::string> username;  // compat routes only: unique per owner when set
  std::string title;
  std::string system_prompt;
  boost::json::object settings;  // generation settings (temperature, max_tokens, ...), opaque here
  TimeMs created_at = 0;
  TimeMs updated_at = 0;  // creation, any chat update, or any message appended/updated
};

struct Message {
  std::string id;       // "msg_" + 32 lowercase hex digits, assigned by the store
  int64_t number = 0;   // increases with every message in the database: the order within a chat
  std::string chat_id;
  Role role = Role::user;
  std::string content;  // valid UTF-8 (may contain U+0000), byte for byte as posted
  MessageStatus status = MessageStatus::complete;
  TimeMs created_at = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  std::string finish_reason;              // "" when none ("stop", "length", "cancelled", ...)
  std::optional<std::string> client_key;  // idempotency key supplied by the poster
};

struct ChatWithMessages {
  Chat chat;
  std::vector<Message> messages;  // oldest first
  // Grows with every committed change to the chat or its messages, as read in the same snapshot:
  // equal versions of one chat mean equal contents. What caches validate against (db-api's ETag).
  // Stores keep a counter per chat, bumped by chat and message updates, and add the number of
  // messages (appends only add messages, and add nothing to the chat row: no hot row when many
  // post to one chat). 0: unknown.
  int64_t version = 0;
};

// One chat of one owner, as named in a batch of version checks.
struct ChatRef {
  std::string chat_id;
  std::string owner;
};

struct NewMessage {
  Role role = Role::user;
  std::string content;
  MessageStatus status = MessageStatus::complete;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  std::string finish_reason;
  std::optional<std::string> client_key;
};

struct NewChat {
  std::string title;
  std::string system_prompt;
  boost::json::object settings;
  std::optional<std::string> username;  // compat: a second chat with the same one is a conflict
  std::vector<NewMessage> messages;     // stored with the chat, in one transaction
};

// Only the fields that are set change.
struct ChatPatch {
  std::optional<std::string> title;
  std::optional<std::string> system_prompt;
  std::optional<boost::json::object> settings;
};

struct MessagePatch {
  std::optional<std::string> content;
  std::optional<MessageStatus> status;
  std::optional<int64_t> prompt_tokens;
  std::optional<int64_t> completion_tokens;
  std::optional<std::string> finish_reason;
};

struct ListChatsQuery {
  int limit = 20;                        // 1..100
  std::optional<std::string> cursor;     // next_cursor of the previous page
  std::optional<int64_t> number;         // only the chat with this number (compat lookups)
  std::optional<std::string> username;   // only the chat with this username (compat lookups)
};

struct ChatPage {
  std::vector<Chat> chats;                // newest first (by creation)
  std::optional<std::string> next_cursor;  // set when more chats follow
};

struct AppendResult {
  Message message;
  bool created = true;  // false: the client key was already used in this chat; message is that one
};

// Size limits enforced by store/validation.hpp (bytes unless noted).
struct StoreLimits {
  size_t max_content_bytes = 256 * 1024;        // message content and system prompt
  size_t max_title_bytes = 1024;
  size_t max_settings_bytes = 64 * 1024;        // settings serialized as JSON
  size_t max_messages_per_chat_create = 1000;
};

// Non-virtual interface: the public coroutines validate their input (one set of rules for every
// implementation, see validation.hpp) and then call the implementation's do_* coroutine, which may
// assume valid input.
inline constexpr size_t kMaxVersionChecks = 256;

class ChatStore {
 public:
  template <typename T>
  using Async = boost::asio::awaitable<Result<T>>;

  explicit ChatStore(StoreLimits limits = {}) : limits_(limits) {}
  virtual ~ChatStore() = default;
  ChatStore(const ChatStore&) = delete;
  ChatStore& operator=(const ChatStore&) = delete;

  const StoreLimits& limits() const { return limits_; }

  Async<Chat> create_chat(std::string owner, NewChat chat);
  Async<ChatPage> list_chats(std::string owner, ListChatsQuery query);
  Async<ChatWithMessages> get_chat(std::string owner, std::string chat_id);
  // get_chat unless the chat's version is still known_version: then nullopt ("not modified"),
  // checked against the database at call time (one round trip that reads only the chat row when
  // nothing changed). Errors as get_chat (another owner's chat: not_found).
  Async<std::optional<ChatWithMessages>> get_chat_if_changed(std::string owner, std::string chat_id,
                                                              int64_t known_version);
  // The current version of each chat (ChatWithMessages::version), in order; nullopt for a chat that
  // does not exist, belongs to another owner or has an invalid id or owner. At most
  // kMaxVersionChecks refs (invalid_argument beyond). Checked against the database at call time.
  Async<std::vector<std::optional<int64_t>>> chat_versions(std::vector<ChatRef> refs);
  Async<Chat> update_chat(std::string owner, std::string chat_id, ChatPatch patch);
  Async<Unit> delete_chat(std::string owner, std::string chat_id);
  // Idempotent on message.client_key: a key already used in this chat returns that message
  // (created = false) whatever the rest of the request says; nothing new is written.
  Async<AppendResult> append_message(std::string owner, std::string chat_id, NewMessage message);
  Async<Message> update_message(std::string owner, std::string chat_id, std::string message_id,
                                MessagePatch patch);
  // ok when the backing database answers (used by /readyz); unavailable otherwise.
  virtual Async<Unit> check_ready() = 0;

 protected:
  virtual Async<Chat> do_create_chat(const std::string& owner, NewChat chat) = 0;
  virtual Async<ChatPage> do_list_chats(const std::string& owner, ListChatsQuery query) = 0;
  virtual Async<ChatWithMessages> do_get_chat(const std::string& owner, const std::string& chat_id) = 0;
  // Default: do_get_chat, then compare versions (correct, saves nothing on the database side).
  virtual Async<std::optional<ChatWithMessages>> do_get_chat_if_changed(const std::string& owner,
                                                                        const std::string& chat_id,
                                                                        int64_t known_version);
  // refs: valid ids and owners. Default: do_get_chat for each, one after another.
  virtual Async<std::vector<std::optional<int64_t>>> do_chat_versions(std::vector<ChatRef> refs);
  virtual Async<Chat> do_update_chat(const std::string& owner, const std::string& chat_id,
                                     ChatPatch patch) = 0;
  virtual Async<Unit> do_delete_chat(const std::string& owner, const std::string& chat_id) = 0;
  virtual Async<AppendResult> do_append_message(const std::string& owner, const std::string& chat_id,
                                                NewMessage message) = 0;
  virtual Async<Message> do_update_message(const std::string& owner, const std::string& chat_id,
                                           const std::string& message_id, MessagePatch patch) = 0;

 private:
  StoreLimits limits_;
};

}  // namespace parley::store
