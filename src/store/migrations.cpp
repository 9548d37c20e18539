// The schema, as migrations. Never edit a released migration: add a new version.
// Notes that apply to both dialects:
// - chats.number / messages.number are never reused (AUTOINCREMENT / identity) and order the rows;
// - there is deliberately no index on message content (an index on content capped the length of a
//   message in the original app: PostgreSQL rejects btree entries over ~2.7 KB);
// - PostgreSQL keeps free text (title, system prompt, content) in bytea, because text cannot hold
//   U+0000, which is valid UTF-8 and must round-trip byte for byte.
#include "store/migration.hpp"

namespace parley::store {
namespace {

const Migration kSqlite[] = {
    {1, "chats and messages", R"sql(
CREATE TABLE chats (
  number        INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT NOT NULL UNIQUE,
  owner         TEXT NOT NULL,
  username      TEXT,
  title         TEXT NOT NULL,
  system_prompt TEXT NOT NULL,
  settings      TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX chats_by_owner ON chats (owner, number);
CREATE UNIQUE INDEX chats_by_owner_username ON chats (owner, username) WHERE username IS NOT NULL;
CREATE TABLE messages (
  number            INTEGER PRIMARY KEY AUTOINCREMENT,
  id                TEXT NOT NULL UNIQUE,
  chat_number       INTEGER NOT NULL REFERENCES chats (number) ON DELETE CASCADE,
  role              TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  content           TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('complete', 'partial', 'error')),
  created_at        INTEGER NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  finish_reason     TEXT NOT NULL,
  client_key        TEXT
);
CREATE INDEX messages_by_chat ON messages (chat_number, number);
CREATE UNIQUE INDEX messages_by_client_key ON messages (chat_number, client_key) WHERE client_key IS NOT NULL;
)sql"},
    {2, "chat versions", R"sql(
ALTER TABLE chats ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
)sql"},
};

const Migration kPostgres[] = {
    {1, "chats and messages", R"sql(
CREATE TABLE chats (
  number        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id            TEXT NOT NULL UNIQUE,
  owner         TEXT NOT NULL,
  username      TEXT,
  title         BYTEA NOT NULL,
  system_prompt BYTEA NOT NULL,
  settings      TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);
CREATE INDEX chats_by_owner ON chats (owner, number);
CREATE UNIQUE INDEX chats_by_owner_username ON chats (owner, username) WHERE username IS NOT NULL;
CREATE TABLE messages (
  number            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id                TEXT NOT NULL UNIQUE,
  chat_number       BIGINT NOT NULL REFERENCES chats (number) ON DELETE CASCADE,
  role              TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  content           BYTEA NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('complete', 'partial', 'error')),
  created_at        BIGINT NOT NULL,
  prompt_tokens     BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  finish_reason     TEXT NOT NULL,
  client_key        TEXT
);
CREATE INDEX messages_by_chat ON messages (chat_number, number);
CREATE UNIQUE INDEX messages_by_client_key ON messages (chat_number, client_key) WHERE client_key IS NOT NULL;
)sql"},
    // Chat and message updates add 1 in the same statement; appends do not (see
    // ChatWithMessages::version: the message count covers them).
    {2, "chat versions", R"sql(
ALTER TABLE chats ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
)sql"},
    // Statements read one chat's messages with `chat_number = <a chat's number>`, a value the
    // planner does not see (a join or a batch), so it estimates rows per chat as rows / distinct
    // chats. Sampled while one chat holds most messages (a long chat early in an installation's
    // life, or a benchmark's), that is "every row", and reading any chat became a scan of the whole
    // table (66 ms at 110,000 messages instead of 0.1 ms). Tell it instead that chats average 100
    // messages: the index on (chat_number, number) is the right path at any real count, since one
    // chat's messages are all a statement ever wants. ANALYZE makes it apply at once.
    {3, "messages per chat for the planner", R"sql(
ALTER TABLE messages ALTER COLUMN chat_number SET (n_distinct = -0.01);
ANALYZE messages;
)sql"},
};

}  // namespace

std::span<const Migration> sqlite_migrations() { return kSqlite; }
std::span<const Migration> postgres_migrations() { return kPostgres; }

}  // namespace parley::store
