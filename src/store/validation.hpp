// The one set of input rules for every ChatStore implementation (ChatStore's public coroutines call
// these before any implementation sees the input). Every failure is invalid_argument with a message
// fit for a client ("content is empty"), except oversized content, which is payload_too_large.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.hpp"
#include "store/chat_store.hpp"

namespace parley::store {

// Limits on identifiers (bytes).
inline constexpr size_t kMaxOwnerBytes = 256;
inline constexpr size_t kMaxUsernameBytes = 256;
inline constexpr size_t kMaxClientKeyBytes = 128;
inline constexpr size_t kMaxFinishReasonBytes = 64;
inline constexpr int kMaxListLimit = 100;

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. U+0000 is valid.
bool is_valid_utf8(std::string_view text);

// "chat_" / "msg_" followed by exactly 32 lowercase hex digits.
bool is_valid_chat_id(std::string_view id);
bool is_valid_message_id(std::string_view id);

Status validate_owner(std::string_view owner);
Status validate_chat_id(std::string_view id);
Status validate_message_id(std::string_view id);
Status validate_new_chat(const NewChat& chat, const StoreLimits& limits);
Status validate_new_message(const NewMessage& message, const StoreLimits& limits);
Status validate_chat_patch(const ChatPatch& patch, const StoreLimits& limits);
Status validate_message_patch(const MessagePatch& patch, const StoreLimits& limits);
Status validate_list_query(const ListChatsQuery& query);

// Cursor of list_chats: opaque to callers; encodes the number of the last chat of a page.
std::string encode_cursor(int64_t last_chat_number);
std::optional<int64_t> decode_cursor(std::string_view cursor);

}  // namespace parley::store
