// Identifiers and clocks of the store: random ids (core/ids.hpp, 128 bits) and wall-clock
// milliseconds, plus the RFC 3339 form used on the wire.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/chat_store.hpp"

namespace parley::store {

std::string new_chat_id();     // "chat_" + 32 hex
std::string new_message_id();  // "msg_" + 32 hex
TimeMs now_ms();

// "2026-11-27T18:40:19.123Z"
std::string format_time(TimeMs ms);
// Accepts the form format_time writes (and without fraction, or with an offset of Z only).
std::optional<TimeMs> parse_time(std::string_view text);

}  // namespace parley::store
