// The prepared statements of PostgresChatStore (prepared on every connection when it connects).
// Column order of a chat: number, id, owner, username, title, system_prompt, settings, created_at,
// updated_at. Of a message: number, id, role, content, status, created_at, prompt_tokens,
// completion_tokens, finish_reason, client_key.
// Appending a message does not write the chat row (100 writers to one chat would queue on its row
// lock and pile up dead row versions); a chat's updated_at as read is the later of its own and its
// last message's created_at, and its version (ChatWithMessages::version) is the chat row's counter,
// bumped by chat and message updates, plus its number of messages.
#pragma once

#include <span>

#include "store/postgres/pg_connection.hpp"

namespace parley::store::postgres {

inline constexpr const char* kPing = "ping";
inline constexpr const char* kCreateChat = "create_chat";
inline constexpr const char* kInsertMessage = "insert_message";
inline constexpr const char* kListChats = "list_chats";
inline constexpr const char* kGetChat = "get_chat";
inline constexpr const char* kChatVersions = "chat_versions";  // ids joined by ',' -> id, owner, version
inline constexpr const char* kUpdateChat = "update_chat";
inline constexpr const char* kDeleteChat = "delete_chat";
inline constexpr const char* kAppendMessage = "append_message";
inline constexpr const char* kUpdateMessage = "update_message";

std::span<const PreparedStatement> chat_store_statements();

// kChatVersions alone, for the connection of the version checks (pg_chat_store.cpp), whose session
// runs kVersionSessionSetup: one generic plan for every batch. Left to choose, PostgreSQL plans
// each batch afresh (a custom plan for each list of ids), and that planning was half the server's
// CPU per check (docs/performance.md).
std::span<const PreparedStatement> version_check_statements();

// The session setup of every connection. Every statement above has an index to read by, and a
// sequential scan is never what it needs; but a prepared statement's generic plan is made once,
// with the table sizes of that moment, and kept until the next ANALYZE. Made on a new database,
// while `messages` held a page of rows, it reads the whole table on every call as the table grows:
// with 4 connections, 1.5 ms of PostgreSQL CPU per posted message instead of 0.2 ms after ten
// seconds of the db-api benchmark (docs/performance.md). Sequential scans stay possible where no
// index applies; they are only priced out.
#define PARLEY_PG_NO_SEQSCAN "set_config('enable_seqscan', 'off', false)"
inline constexpr const char* kSessionSetup = "SELECT " PARLEY_PG_NO_SEQSCAN;
// The version checks' connection: the same, and one generic plan for every batch.
inline constexpr const char* kVersionSessionSetup =
    "SELECT set_config('plan_cache_mode', 'force_generic_plan', false), " PARLEY_PG_NO_SEQSCAN;
#undef PARLEY_PG_NO_SEQSCAN

}  // namespace parley::store::postgres
