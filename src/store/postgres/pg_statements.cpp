#include "store/postgres/pg_statements.hpp"

namespace parley::store::postgres {
namespace {

constexpr Oid kInt8 = 20, kText = 25, kBytea = 17;

#define PG_CHAT_COLUMNS "number, id, owner, username, title, system_prompt, settings, created_at, updated_at"
#define PG_MESSAGE_COLUMNS \
  "number, id, role, content, status, created_at, prompt_tokens, completion_tokens, finish_reason, client_key"

const PreparedStatement kStatements[] = {
    {kPing, "SELECT 1", {}},
    {kCreateChat,
     "INSERT INTO chats (id, owner, username, title, system_prompt, settings, created_at, updated_at) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING number",
     {kText, kText, kText, kBytea, kBytea, kText, kInt8}},
    {kInsertMessage,
     "INSERT INTO messages (id, chat_number, role, content, status, created_at, prompt_tokens, "
     "completion_tokens, finish_reason, client_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
     "RETURNING number",
     {kText, kInt8, kText, kBytea, kText, kInt8, kInt8, kInt8, kText, kText}},
    {kListChats,
     "SELECT number, id, owner, username, title, system_prompt, settings, created_at, "
     "GREATEST(updated_at, COALESCE((SELECT m.created_at FROM messages m WHERE m.chat_number = chats.number "
     "ORDER BY m.number DESC LIMIT 1), 0)) FROM chats WHERE owner = $1 AND ($2::int8 IS NULL OR number < $2) "
     "AND ($3::int8 IS NULL OR number = $3) AND ($4::text IS NULL OR username = $4) "
     "ORDER BY number DESC LIMIT $5",
     {kText, kInt8, kInt8, kText, kInt8}},
    // One round trip for a chat and its messages: the chat row (kind 0), then its messages (kind 1)
    // in the same snapshot, in shared columns (by type):
    //   kind, number, id, owner|role, username|status, title|content, system_prompt|NULL,
    //   settings|finish_reason, created_at, updated_at|prompt_tokens, version|completion_tokens,
    //   NULL|client_key
    // No ORDER BY (a sort node costs more than the rest of the plan): the reader orders the rows.
    {kGetChat,
     "WITH c AS MATERIALIZED (SELECT " PG_CHAT_COLUMNS ", version FROM chats WHERE id = $1 AND owner = $2) "
     "SELECT 0::int8, number, id, owner, username, title, system_prompt, settings, created_at, updated_at, version, "
     "NULL::text FROM c UNION ALL "
     "SELECT 1::int8, m.number, m.id, m.role, m.status, m.content, NULL, m.finish_reason, m.created_at, m.prompt_tokens, "
     "m.completion_tokens, m.client_key FROM c JOIN messages m ON m.chat_number = c.number",
     {kText, kText}},
    {kUpdateChat,
     "UPDATE chats SET title = COALESCE($3, title), system_prompt = COALESCE($4, system_prompt), "
     "settings = COALESCE($5, settings), updated_at = GREATEST(updated_at, $6), version = version + 1 "
     "WHERE id = $1 AND owner = $2 RETURNING " PG_CHAT_COLUMNS,
     {kText, kText, kBytea, kBytea, kText, kInt8}},
    {kDeleteChat, "DELETE FROM chats WHERE id = $1 AND owner = $2", {kText, kText}},
    // Atomic and idempotent: a client key already used in the chat returns that message
    // (created = false). No row: no such chat. A row of NULLs: a concurrent post with the same key
    // committed between our snapshot and our insert; running the statement again finds it.
    // `existing` names the chat number as a value, not a join, so that every plan (a generic one
    // made while few messages had keys included) looks the key up under its chat in
    // messages_by_client_key instead of reading that index whole.
    {kAppendMessage,
     "WITH c AS (SELECT number FROM chats WHERE id = $1 AND owner = $2), "
     "existing AS (SELECT m.number, m.id, m.role, m.content, m.status, m.created_at, m.prompt_tokens, "
     "  m.completion_tokens, m.finish_reason, m.client_key FROM messages m "
     "  WHERE $10::text IS NOT NULL AND m.chat_number = (SELECT number FROM c) AND m.client_key = $10), "
     "ins AS (INSERT INTO messages (id, chat_number, role, content, status, created_at, prompt_tokens, "
     "  completion_tokens, finish_reason, client_key) "
     "  SELECT $3, c.number, $4, $5, $6, $7, $8, $9, $11, $10 FROM c WHERE NOT EXISTS (SELECT 1 FROM existing) "
     "  ON CONFLICT (chat_number, client_key) WHERE client_key IS NOT NULL DO NOTHING "
     "  RETURNING " PG_MESSAGE_COLUMNS ", chat_number) "
     "SELECT x.* FROM c LEFT JOIN (SELECT true AS created, " PG_MESSAGE_COLUMNS " FROM ins "
     "  UNION ALL SELECT false, * FROM existing) x ON true",
     {kText, kText, kText, kText, kBytea, kText, kInt8, kInt8, kInt8, kText, kText}},
    {kUpdateMessage,
     "WITH target AS (SELECT m.number, m.chat_number FROM messages m JOIN chats c ON c.number = m.chat_number "
     "  WHERE m.id = $1 AND c.id = $2 AND c.owner = $3), "
     "upd AS (UPDATE messages m SET content = COALESCE($4, m.content), status = COALESCE($5, m.status), "
     "  prompt_tokens = COALESCE($6, m.prompt_tokens), completion_tokens = COALESCE($7, m.completion_tokens), "
     "  finish_reason = COALESCE($8, m.finish_reason) FROM target WHERE m.number = target.number "
     "  RETURNING m.number, m.id, m.role, m.content, m.status, m.created_at, m.prompt_tokens, "
     "  m.completion_tokens, m.finish_reason, m.client_key, m.chat_number), "
     "touch AS (UPDATE chats SET updated_at = GREATEST(updated_at, $9), version = version + 1 "
     "  WHERE number IN (SELECT chat_number FROM upd)) "
     "SELECT " PG_MESSAGE_COLUMNS " FROM upd",
     {kText, kText, kText, kBytea, kText, kInt8, kInt8, kText, kInt8}},
};

// The check before a cached copy of a chat is used: ChatWithMessages::version (the chat row's
// counter plus the number of its messages: one index lookup and an index-only count).
const PreparedStatement kVersionStatements[] = {
    {kChatVersions,
     "SELECT c.id, c.owner, c.version + (SELECT count(*) FROM messages m WHERE m.chat_number = c.number) "
     "FROM chats c WHERE c.id = ANY(string_to_array($1, ','))",
     {kText}},
};

}  // namespace

std::span<const PreparedStatement> chat_store_statements() { return kStatements; }
std::span<const PreparedStatement> version_check_statements() { return kVersionStatements; }

}  // namespace parley::store::postgres
