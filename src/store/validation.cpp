#include "store/validation.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>
#include <cstring>

namespace parley::store {
namespace {

Error invalid(std::string message) { return make_error(ErrorCode::invalid_argument, std::move(message)); }

bool has_control_chars(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

bool is_printable_ascii(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

bool is_hex_id(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 32 || id.substr(0, prefix.size()) != prefix) return false;
  for (char c : id.substr(prefix.size()))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A short label of a field that is UTF-8 text without control characters.
Status check_label(std::string_view value, std::string_view field, size_t max_bytes) {
  if (value.empty()) return invalid(std::string(field) + " is empty");
  if (value.size() > max_bytes)
    return invalid(std::string(field) + " is longer than " + std::to_string(max_bytes) + " bytes");
  if (!is_valid_utf8(value) || has_control_chars(value))
    return invalid(std::string(field) + " must be UTF-8 text without control characters");
  return ok_status();
}

Status check_text(std::string_view value, std::string_view field, size_t max_bytes) {
  if (value.size() > max_bytes)
    return make_error(ErrorCode::payload_too_large,
                      std::string(field) + " is longer than " + std::to_string(max_bytes) + " bytes");
  if (!is_valid_utf8(value)) return invalid(std::string(field) + " is not valid UTF-8");
  return ok_status();
}

// Boost.JSON reads a number beyond double's range (1e400) as infinity and writes it back as
// "Infinity", which is not JSON: stored, it would make every later answer about the chat unreadable.
bool has_non_finite(const boost::json::value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (v.is_array()) {
    for (const auto& e : v.get_array())
      if (has_non_finite(e)) return true;
  }
  if (v.is_object()) {
    for (const auto& kv : v.get_object())
      if (has_non_finite(kv.value())) return true;
  }
  return false;
}

Status check_settings(const boost::json::object& settings, const StoreLimits& limits) {
  if (settings.empty()) return ok_status();
  if (boost::json::serialize(settings).size() > limits.max_settings_bytes)
    return make_error(ErrorCode::payload_too_large,
                      "settings are larger than " + std::to_string(limits.max_settings_bytes) + " bytes");
  for (const auto& kv : settings)
    if (has_non_finite(kv.value())) return invalid("settings hold a number out of range");
  return ok_status();
}

Status check_tokens(int64_t value, std::string_view field) {
  if (value < 0 || value > 1'000'000'000) return invalid(std::string(field) + " must be in [0, 1e9]");
  return ok_status();
}

Status check_finish_reason(std::string_view value) {
  if (value.size() > kMaxFinishReasonBytes || !is_printable_ascii(value))
    return invalid("finish_reason must be at most 64 printable ASCII characters");
  return ok_status();
}

// Empty content is a reply not written yet: allowed for an assistant message that is partial
// (being generated) or error (failed before the first token), never for a complete message.
Status check_content(std::string_view content, Role role, MessageStatus status, const StoreLimits& limits) {
  if (auto s = check_text(content, "content", limits.max_content_bytes); !s) return s;
  if (content.empty() && (role != Role::assistant || status == MessageStatus::complete))
    return invalid("content is empty");
  return ok_status();
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // ASCII fast path, 8 bytes at a time.
    if (end - p >= 8) {
      uint64_t chunk;
      std::memcpy(&chunk, p, 8);
      if ((chunk & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte, overlong lead (c0, c1) or > f4
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff))) return false;
    if (cp >= 0xd800 && cp <= 0xdfff) return false;
    p += extra + 1;
  }
  return true;
}

bool is_valid_chat_id(std::string_view id) { return is_hex_id(id, "chat_"); }
bool is_valid_message_id(std::string_view id) { return is_hex_id(id, "msg_"); }

Status validate_owner(std::string_view owner) { return check_label(owner, "owner", kMaxOwnerBytes); }

Status validate_chat_id(std::string_view id) {
  if (!is_valid_chat_id(id)) return invalid("invalid chat id");
  return ok_status();
}

Status validate_message_id(std::string_view id) {
  if (!is_valid_message_id(id)) return invalid("invalid message id");
  return ok_status();
}

Status validate_new_message(const NewMessage& m, const StoreLimits& limits) {
  if (auto s = check_content(m.content, m.role, m.status, limits); !s) return s;
  if (auto s = check_tokens(m.prompt_tokens, "prompt_tokens"); !s) return s;
  if (auto s = check_tokens(m.completion_tokens, "completion_tokens"); !s) return s;
  if (auto s = check_finish_reason(m.finish_reason); !s) return s;
  if (m.client_key) {
    if (m.client_key->empty() || m.client_key->size() > kMaxClientKeyBytes || !is_printable_ascii(*m.client_key))
      return invalid("client_key must be 1 to 128 printable ASCII characters");
  }
  return ok_status();
}

Status validate_new_chat(const NewChat& chat, const StoreLimits& limits) {
  if (chat.title.size() > limits.max_title_bytes)
    return invalid("title is longer than " + std::to_string(limits.max_title_bytes) + " bytes");
  if (!is_valid_utf8(chat.title)) return invalid("title is not valid UTF-8");
  if (auto s = check_text(chat.system_prompt, "system_prompt", limits.max_content_bytes); !s) return s;
  if (auto s = check_settings(chat.settings, limits); !s) return s;
  if (chat.username) {
    if (auto s = check_label(*chat.username, "username", kMaxUsernameBytes); !s) return s;
  }
  if (chat.messages.size() > limits.max_messages_per_chat_create)
    return invalid("too many messages (at most " + std::to_string(limits.max_messages_per_chat_create) + ")");
  for (size_t i = 0; i < chat.messages.size(); ++i) {
    if (auto s = validate_new_message(chat.messages[i], limits); !s)
      return make_error(s.error().code, "messages[" + std::to_string(i) + "]: " + s.error().message);
    const auto& key = chat.messages[i].client_key;
    for (size_t j = 0; key && j < i; ++j)
      if (chat.messages[j].client_key == key) return invalid("messages repeat a client_key");
  }
  return ok_status();
}

Status validate_chat_patch(const ChatPatch& patch, const StoreLimits& limits) {
  if (patch.title) {
    if (patch.title->size() > limits.max_title_bytes)
      return invalid("title is longer than " + std::to_string(limits.max_title_bytes) + " bytes");
    if (!is_valid_utf8(*patch.title)) return invalid("title is not valid UTF-8");
  }
  if (patch.system_prompt) {
    if (auto s = check_text(*patch.system_prompt, "system_prompt", limits.max_content_bytes); !s) return s;
  }
  if (patch.settings) {
    if (auto s = check_settings(*patch.settings, limits); !s) return s;
  }
  return ok_status();
}

Status validate_message_patch(const MessagePatch& patch, const StoreLimits& limits) {
  if (patch.content) {
    if (auto s = check_text(*patch.content, "content", limits.max_content_bytes); !s) return s;
    // Emptying a message is only meaningful for an unfinished or failed reply.
    if (patch.content->empty() && (!patch.status || *patch.status == MessageStatus::complete))
      return invalid("content is empty");
  }
  if (patch.prompt_tokens) {
    if (auto s = check_tokens(*patch.prompt_tokens, "prompt_tokens"); !s) return s;
  }
  if (patch.completion_tokens) {
    if (auto s = check_tokens(*patch.completion_tokens, "completion_tokens"); !s) return s;
  }
  if (patch.finish_reason) {
    if (auto s = check_finish_reason(*patch.finish_reason); !s) return s;
  }
  return ok_status();
}

Status validate_list_query(const ListChatsQuery& query) {
  if (query.limit < 1 || query.limit > kMaxListLimit) return invalid("limit must be in [1, 100]");
  if (query.cursor && !decode_cursor(*query.cursor)) return invalid("invalid cursor");
  if (query.number && *query.number <= 0) return invalid("number must be positive");
  if (query.username) {
    if (auto s = check_label(*query.username, "username", kMaxUsernameBytes); !s) return s;
  }
  return ok_status();
}

std::string encode_cursor(int64_t last_chat_number) {
  std::string cursor = std::to_string(last_chat_number);
  cursor.insert(cursor.begin(), 'n');
  return cursor;
}

std::optional<int64_t> decode_cursor(std::string_view cursor) {
  if (cursor.size() < 2 || cursor.size() > 20 || cursor[0] != 'n') return std::nullopt;
  int64_t value = 0;
  const char* first = cursor.data() + 1;
  const char* last = cursor.data() + cursor.size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || value <= 0 || *first == '0') return std::nullopt;
  return value;
}

}  // namespace parley::store
