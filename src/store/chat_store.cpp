#include "store/chat_store.hpp"

#include "store/validation.hpp"

namespace parley::store {

const char* to_string(Role role) {
  switch (role) {
    case Role::system: return "system";
    case Role::user: return "user";
    case Role::assistant: return "assistant";
  }
  return "user";
}

const char* to_string(MessageStatus status) {
  switch (status) {
    case MessageStatus::complete: return "complete";
    case MessageStatus::partial: return "partial";
    case MessageStatus::error: return "error";
  }
  return "complete";
}

std::optional<Role> parse_role(std::string_view text) {
  if (text == "system") return Role::system;
  if (text == "user") return Role::user;
  if (text == "assistant") return Role::assistant;
  return std::nullopt;
}

std::optional<MessageStatus> parse_status(std::string_view text) {
  if (text == "complete") return MessageStatus::complete;
  if (text == "partial") return MessageStatus::partial;
  if (text == "error") return MessageStatus::error;
  return std::nullopt;
}

ChatStore::Async<Chat> ChatStore::create_chat(std::string owner, NewChat chat) {
  if (auto s = validate_owner(owner); !s) co_return s.error();
  if (auto s = validate_new_chat(chat, limits_); !s) co_return s.error();
  co_return co_await do_create_chat(owner, std::move(chat));
}

ChatStore::Async<ChatPage> ChatStore::list_chats(std::string owner, ListChatsQuery query) {
  if (auto s = validate_owner(owner); !s) co_return s.error();
  if (auto s = validate_list_query(query); !s) co_return s.error();
  co_return co_await do_list_chats(owner, std::move(query));
}

ChatStore::Async<ChatWithMessages> ChatStore::get_chat(std::string owner, std::string chat_id) {
  if (auto s = validate_owner(owner); !s) co_return s.error();
  if (auto s = validate_chat_id(chat_id); !s) co_return s.error();
  co_return co_await do_get_chat(owner, chat_id);
}

ChatStore::Async<std::optional<ChatWithMessages>> ChatStore::get_chat_if_changed(std::string owner,
                                                                               std::string chat_id,
                                                                               int64_t known_version) {
  if (auto s = validate_owner(owner); !s) co_return s.error();
  if (auto s = validate_chat_id(chat_id); !s) co_return s.error();
  co_return co_await do_get_chat_if_changed(owner, chat_id, known_version);
}

ChatStore::Async<std::optional<ChatWithMessages>> ChatStore::do_get_chat_if_changed(const std::string& owner,
                                                                                  const std::string& chat_id,
                                                                                  int64_t known_version) {
  auto chat = co_await do_get_chat(owner, chat_id);
  if (!chat) co_return chat.error();
  if (known_version > 0 && chat->version == known_version) co_return std::optional<ChatWithMessages>();
  co_return std::optional<ChatWithMessages>(std::move(chat.value()));
}

ChatStore::Async<std::vector<std::optional<int64_t>>> ChatStore::chat_versions(std::vector<ChatRef> refs) {
  if (refs.size() > kMaxVersionChecks)
    co_return make_error(ErrorCode::invalid_argument,
                         "at most " + std::to_string(kMaxVersionChecks) + " chats per version check");
  std::vector<size_t> valid;  // positions of the refs worth asking the database about
  std::vector<ChatRef> asked;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!validate_owner(refs[i].owner) || !validate_chat_id(refs[i].chat_id)) continue;
    valid.push_back(i);
    asked.push_back(std::move(refs[i]));
  }
  std::vector<std::optional<int64_t>> out(refs.size());
  if (asked.empty()) co_return out;
  auto versions = co_await do_chat_versions(std::move(asked));
  if (!versions) co_return versions.error();
  for (size_t k = 0; k < valid.size() && k < versions->size(); ++k) out[valid[k]] = (*versions)[k];
  co_return out;
}

ChatStore::Async<std::vector<std::optional<int64_t>>> ChatStore::do_chat_versions(std::vector<ChatRef> refs) {
  std::vector<std::optional<int64_t>> out;
  out.reserve(refs.size());
  for (const ChatRef& r : refs) {
    auto chat = co_await do_get_chat(r.owner, r.chat_id);
    if (!chat && chat.error().code != ErrorCode::not_found) co_return chat.error();
    out.push_back(chat ? std::optional<int64_t>(chat->version) : std::nullopt);
  }
  co_return out;
}

ChatStore::Async<Chat> ChatStore::update_chat(std::string owner, std::string chat_id, ChatPatch patch) {
  if (auto s = validate_owner(owner); !s) co_return s.error();
  if (auto s = validate_chat_id(chat_id); !s) co_return s.error();
  if (auto s = validate_chat_patch(patch, limits_); !s) co_return s.error();
  co_return co_await do_update_chat(owner, chat_id, std::move(patch));
}

ChatStore::Async<Unit> ChatStore::delete_chat(std::string owner, std::string chat_id) {
  if (auto s = validate_owner(owner); !s) co_return s.error();
  if (auto s = validate_chat_id(chat_id); !s) co_return s.error();
  co_return co_await do_delete_chat(owner, chat_id);
}

ChatStore::Async<AppendResult> ChatStore::append_message(std::string owner, std::string chat_id,
                                                         NewMessage message) {
  if (auto s = validate_owner(owner); !s) co_return s.error();
  if (auto s = validate_chat_id(chat_id); !s) co_return s.error();
  if (auto s = validate_new_message(message, limits_); !s) co_return s.error();
  co_return co_await do_append_message(owner, chat_id, std::move(message));
}

ChatStore::Async<Message> ChatStore::update_message(std::string owner, std::string chat_id,
                                                    std::string message_id, MessagePatch patch) {
  if (auto s = validate_owner(owner); !s) co_return s.error();
  if (auto s = validate_chat_id(chat_id); !s) co_return s.error();
  if (auto s = validate_message_id(message_id); !s) co_return s.error();
  if (auto s = validate_message_patch(patch, limits_); !s) co_return s.error();
  co_return co_await do_update_message(owner, chat_id, message_id, std::move(patch));
}

}  // namespace parley::store
