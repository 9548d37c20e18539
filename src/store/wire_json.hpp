// The JSON form of the store's types on db-api's /v1 wire, shared by the handlers (which parse
// requests and render responses) and the HTTP client ChatStore (which does the reverse).
//
// Chat:    {"id","number","owner","username"|null,"title","system_prompt","settings":{},
//           "created_at","updated_at"}  (+ "messages":[...] and "version" for a chat with its messages:
//           ChatWithMessages::version, also db-api's ETag)
// Message: {"id","number","chat_id","role","content","status","created_at","prompt_tokens",
//           "completion_tokens","finish_reason","client_key"|null}
// Times are RFC 3339 strings with milliseconds ("2026-11-27T18:40:19.123Z").
//
// Request parsing is strict: wrong types, unknown fields and missing required fields are
// invalid_argument errors naming the field; null counts as absent for optional fields.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"
#include "store/chat_store.hpp"

namespace parley::store::wire {

boost::json::object to_json(const Chat& chat);
boost::json::object to_json(const Message& message);
boost::json::object to_json(const ChatWithMessages& chat);
boost::json::object to_json(const ChatPage& page);

// The same documents written straight into a string (no JSON tree: the hot path of db-api; one
// allocation-amortized pass). Identical JSON to serialize(to_json(x)) up to key order/escaping.
std::string render_json(const Chat& chat);
std::string render_json(const Message& message);
std::string render_json(const ChatWithMessages& chat);
std::string render_json(const ChatPage& page);

// Appends s as a JSON string literal; copies runs of bytes that need no escape at once.
void append_json_string(std::string& out, std::string_view s);

// Request bodies (POST /v1/chats, POST .../messages, PATCH ...).
Result<NewChat> parse_new_chat(const boost::json::object& body);
Result<NewMessage> parse_new_message(const boost::json::object& body);
Result<ChatPatch> parse_chat_patch(const boost::json::object& body);
Result<MessagePatch> parse_message_patch(const boost::json::object& body);

boost::json::object to_json(const NewChat& chat);
boost::json::object to_json(const NewMessage& message);
boost::json::object to_json(const ChatPatch& patch);
boost::json::object to_json(const MessagePatch& patch);

// Responses, read back by the HTTP client (a malformed one is an `internal` error).
Result<Chat> parse_chat(const boost::json::object& json);
Result<Message> parse_message(const boost::json::object& json);
Result<ChatWithMessages> parse_chat_with_messages(const boost::json::object& json);
Result<ChatPage> parse_chat_page(const boost::json::object& json);

}  // namespace parley::store::wire
