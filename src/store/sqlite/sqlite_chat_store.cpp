#include "store/sqlite/sqlite_chat_store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "store/ids.hpp"
#include "store/offload.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/validation.hpp"

namespace parley::store::sqlite {
namespace {

#define CHAT_COLUMNS "number, id, owner, username, title, system_prompt, settings, created_at, updated_at"
#define MESSAGE_COLUMNS                                                                              \
  "m.number, m.id, m.role, m.content, m.status, m.created_at, m.prompt_tokens, m.completion_tokens, " \
  "m.finish_reason, m.client_key"

Chat read_chat(const Statement& st) {
  Chat c;
  c.number = st.column_int(0);
  c.id = st.column_text(1);
  c.owner = st.column_text(2);
  c.username = st.column_optional_text(3);
  c.title = st.column_text(4);
  c.system_prompt = st.column_text(5);
  c.settings = boost::json::parse(st.column_text(6)).as_object();
  c.created_at = st.column_int(7);
  c.updated_at = st.column_int(8);
  return c;
}

Message read_message(const Statement& st, const std::string& chat_id) {
  Message m;
  m.number = st.column_int(0);
  m.id = st.column_text(1);
  m.chat_id = chat_id;
  m.role = parse_role(st.column_text(2)).value_or(Role::user);
  m.content = st.column_text(3);
  m.status = parse_status(st.column_text(4)).value_or(MessageStatus::complete);
  m.created_at = st.column_int(5);
  m.prompt_tokens = st.column_int(6);
  m.completion_tokens = st.column_int(7);
  m.finish_reason = st.column_text(8);
  m.client_key = st.column_optional_text(9);
  return m;
}

std::optional<Chat> find_chat(SqliteDb& db, const std::string& owner, const std::string& chat_id) {
  auto st = db.prepare("SELECT " CHAT_COLUMNS " FROM chats WHERE id = ?1 AND owner = ?2");
  st.bind(1, chat_id).bind(2, owner);
  if (!st.step()) return std::nullopt;
  return read_chat(st);
}

Message insert_message(SqliteDb& db, int64_t chat_number, const std::string& chat_id, NewMessage in,
                       TimeMs now) {
  Message m;
  m.id = new_message_id();
  m.chat_id = chat_id;
  m.role = in.role;
  m.content = std::move(in.content);
  m.status = in.status;
  m.created_at = now;
  m.prompt_tokens = in.prompt_tokens;
  m.completion_tokens = in.completion_tokens;
  m.finish_reason = std::move(in.finish_reason);
  m.client_key = std::move(in.client_key);
  auto st = db.prepare(
      "INSERT INTO messages (id, chat_number, role, content, status, created_at, prompt_tokens, "
      "completion_tokens, finish_reason, client_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  st.bind(1, m.id).bind(2, chat_number).bind(3, to_string(m.role)).bind(4, m.content);
  st.bind(5, to_string(m.status)).bind(6, now).bind(7, m.prompt_tokens).bind(8, m.completion_tokens);
  st.bind(9, m.finish_reason).bind_optional(10, m.client_key);
  st.run();
  m.number = db.last_insert_rowid();
  return m;
}

void touch_chat(SqliteDb& db, int64_t chat_number, TimeMs now) {
  auto st = db.prepare("UPDATE chats SET updated_at = max(updated_at, ?2), version = version + 1 WHERE number = ?1");
  st.bind(1, chat_number).bind(2, now).run();
}

Error not_found_chat() { return make_error(ErrorCode::not_found, "chat not found"); }

}  // namespace

MigrationReport migrate_sqlite(SqliteDb& db) {
  MigrationReport report;
  Transaction tx(db, /*immediate=*/true);
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
          "description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  {
    auto st = db.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
    st.step();
    report.version_before = static_cast<int>(st.column_int(0));
  }
  report.version_after = report.version_before;
  for (const Migration& m : sqlite_migrations()) {
    if (m.version <= report.version_before) continue;
    db.exec(m.sql);
    auto st = db.prepare("INSERT INTO schema_migrations (version, description, applied_at) VALUES (?1, ?2, ?3)");
    st.bind(1, int64_t{m.version}).bind(2, m.description).bind(3, now_ms()).run();
    report.version_after = m.version;
    ++report.applied;
  }
  tx.commit();
  return report;
}

// A connection taken from the idle list for one call (created on first use: at most one per
// pool thread exists).
class SqliteChatStore::Lease {
 public:
  explicit Lease(SqliteChatStore& store) : store_(store) {
    std::lock_guard lock(store_.pool_mutex_);
    if (!store_.idle_.empty()) {
      db_ = std::move(store_.idle_.back());
      store_.idle_.pop_back();
    }
    if (!db_) db_ = std::make_unique<SqliteDb>(store_.path_, store_.options_.busy_timeout_ms);
  }
  ~Lease() {
    std::lock_guard lock(store_.pool_mutex_);
    store_.idle_.push_back(std::move(db_));
  }
  SqliteDb& db() { return *db_; }

 private:
  SqliteChatStore& store_;
  std::unique_ptr<SqliteDb> db_;
};

SqliteChatStore::SqliteChatStore(const std::string& path, SqliteOptions options)
    : ChatStore(options.limits), path_(path), options_(options), pool_(static_cast<size_t>(std::max(1, options.threads))) {
  auto db = std::make_unique<SqliteDb>(path_, options_.busy_timeout_ms);
  migration_ = migrate_sqlite(*db);
  idle_.push_back(std::move(db));
}

SqliteChatStore::~SqliteChatStore() { pool_.join(); }

template <typename R, typename F>
boost::asio::awaitable<std::optional<Result<R>>> SqliteChatStore::with_db(F& fn) {
  return run_blocking(pool_, [this, &fn]() -> Result<R> {
    try {
      Lease lease(*this);
      return fn(lease.db());
    } catch (const SqliteError& e) {
      if (e.primary() == SQLITE_BUSY || e.primary() == SQLITE_LOCKED)
        return make_error(ErrorCode::unavailable, "database is busy");
      if (e.code() == SQLITE_CONSTRAINT_UNIQUE)
        return make_error(ErrorCode::conflict, "conflicts with an existing chat or message");
      if (e.primary() == SQLITE_CANTOPEN || e.primary() == SQLITE_IOERR || e.primary() == SQLITE_FULL)
        return make_error(ErrorCode::unavailable, "database unavailable");
      throw;
    }
  });
}

ChatStore::Async<Unit> SqliteChatStore::check_ready() {
  auto job = [&](SqliteDb& db) -> Result<Unit> {
    auto st = db.prepare("SELECT 1");
    st.step();
    return Unit{};
  };
  co_return std::move(*co_await with_db<Unit>(job));
}

ChatStore::Async<Chat> SqliteChatStore::do_create_chat(const std::string& owner, NewChat in) {
  auto job = [&](SqliteDb& db) -> Result<Chat> {
    std::lock_guard write(write_mutex_);
    Transaction tx(db, true);
    if (in.username) {
      auto st = db.prepare("SELECT 1 FROM chats WHERE owner = ?1 AND username = ?2");
      st.bind(1, owner).bind(2, *in.username);
      if (st.step()) return make_error(ErrorCode::conflict, "this username already has a chat in this session");
    }
    Chat c;
    c.id = new_chat_id();
    c.owner = owner;
    c.username = std::move(in.username);
    c.title = std::move(in.title);
    c.system_prompt = std::move(in.system_prompt);
    c.settings = std::move(in.settings);
    c.created_at = c.updated_at = now_ms();
    auto st = db.prepare(
        "INSERT INTO chats (id, owner, username, title, system_prompt, settings, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)");
    st.bind(1, c.id).bind(2, c.owner).bind_optional(3, c.username).bind(4, c.title).bind(5, c.system_prompt);
    st.bind(6, boost::json::serialize(c.settings)).bind(7, c.created_at).run();
    c.number = db.last_insert_rowid();
    for (NewMessage& m : in.messages) insert_message(db, c.number, c.id, std::move(m), c.created_at);
    tx.commit();
    return c;
  };
  co_return std::move(*co_await with_db<Chat>(job));
}

ChatStore::Async<ChatPage> SqliteChatStore::do_list_chats(const std::string& owner, ListChatsQuery q) {
  auto job = [&](SqliteDb& db) -> Result<ChatPage> {
    auto st = db.prepare("SELECT number, id, owner, username, title, system_prompt, settings, created_at, "
                         "max(updated_at, coalesce((SELECT m.created_at FROM messages m WHERE m.chat_number = "
                         "chats.number ORDER BY m.number DESC LIMIT 1), 0)) "
                         "FROM chats WHERE owner = ?1 AND (?2 IS NULL OR number < ?2) "
                         "AND (?3 IS NULL OR number = ?3) AND (?4 IS NULL OR username = ?4) "
                         "ORDER BY number DESC LIMIT ?5");
    st.bind(1, owner);
    if (q.cursor) st.bind(2, *decode_cursor(*q.cursor));
    if (q.number) st.bind(3, *q.number);
    st.bind_optional(4, q.username).bind(5, int64_t{q.limit} + 1);
    ChatPage page;
    while (st.step()) page.chats.push_back(read_chat(st));
    if (page.chats.size() > static_cast<size_t>(q.limit)) {
      page.chats.pop_back();
      page.next_cursor = encode_cursor(page.chats.back().number);
    }
    return page;
  };
  co_return std::move(*co_await with_db<ChatPage>(job));
}

ChatStore::Async<ChatWithMessages> SqliteChatStore::do_get_chat(const std::string& owner, const std::string& chat_id) {
  auto job = [&](SqliteDb& db) -> Result<ChatWithMessages> {
    Transaction tx(db, false);  // one snapshot for the chat and its messages
    auto chat = find_chat(db, owner, chat_id);
    if (!chat) return not_found_chat();
    ChatWithMessages out{std::move(*chat), {}};
    {
      auto v = db.prepare("SELECT version FROM chats WHERE number = ?1");
      v.bind(1, out.chat.number);
      if (v.step()) out.version = v.column_int(0);
    }
    auto st = db.prepare("SELECT " MESSAGE_COLUMNS " FROM messages m WHERE m.chat_number = ?1 ORDER BY m.number");
    st.bind(1, out.chat.number);
    while (st.step()) out.messages.push_back(read_message(st, out.chat.id));
    tx.commit();
    out.version += static_cast<int64_t>(out.messages.size());  // see ChatWithMessages::version
    // Appends do not write the chat row (see pg_statements.hpp); the last message counts.
    if (!out.messages.empty()) out.chat.updated_at = std::max(out.chat.updated_at, out.messages.back().created_at);
    return out;
  };
  co_return std::move(*co_await with_db<ChatWithMessages>(job));
}

ChatStore::Async<Chat> SqliteChatStore::do_update_chat(const std::string& owner, const std::string& chat_id,
                                                       ChatPatch patch) {
  auto job = [&](SqliteDb& db) -> Result<Chat> {
    std::lock_guard write(write_mutex_);
    Transaction tx(db, true);
    auto chat = find_chat(db, owner, chat_id);
    if (!chat) return not_found_chat();
    if (patch.title) chat->title = std::move(*patch.title);
    if (patch.system_prompt) chat->system_prompt = std::move(*patch.system_prompt);
    if (patch.settings) chat->settings = std::move(*patch.settings);
    chat->updated_at = std::max(chat->updated_at, now_ms());
    auto st = db.prepare("UPDATE chats SET title = ?2, system_prompt = ?3, settings = ?4, updated_at = ?5, "
                         "version = version + 1 WHERE number = ?1");
    st.bind(1, chat->number).bind(2, chat->title).bind(3, chat->system_prompt);
    st.bind(4, boost::json::serialize(chat->settings)).bind(5, chat->updated_at).run();
    tx.commit();
    return std::move(*chat);
  };
  co_return std::move(*co_await with_db<Chat>(job));
}

ChatStore::Async<Unit> SqliteChatStore::do_delete_chat(const std::string& owner, const std::string& chat_id) {
  auto job = [&](SqliteDb& db) -> Result<Unit> {
    std::lock_guard write(write_mutex_);
    auto st = db.prepare("DELETE FROM chats WHERE id = ?1 AND owner = ?2");
    st.bind(1, chat_id).bind(2, owner).run();
    if (db.changes() == 0) return not_found_chat();
    return Unit{};
  };
  co_return std::move(*co_await with_db<Unit>(job));
}

ChatStore::Async<AppendResult> SqliteChatStore::do_append_message(const std::string& owner,
                                                                  const std::string& chat_id, NewMessage in) {
  auto job = [&](SqliteDb& db) -> Result<AppendResult> {
    std::lock_guard write(write_mutex_);
    Transaction tx(db, true);
    int64_t chat_number;
    {
      auto st = db.prepare("SELECT number FROM chats WHERE id = ?1 AND owner = ?2");
      st.bind(1, chat_id).bind(2, owner);
      if (!st.step()) return not_found_chat();
      chat_number = st.column_int(0);
    }
    if (in.client_key) {
      auto st = db.prepare("SELECT " MESSAGE_COLUMNS " FROM messages m WHERE m.chat_number = ?1 AND m.client_key = ?2");
      st.bind(1, chat_number).bind(2, *in.client_key);
      if (st.step()) return AppendResult{read_message(st, chat_id), false};
    }
    TimeMs now = now_ms();
    AppendResult out{insert_message(db, chat_number, chat_id, std::move(in), now), true};
    tx.commit();
    return out;
  };
  co_return std::move(*co_await with_db<AppendResult>(job));
}

ChatStore::Async<Message> SqliteChatStore::do_update_message(const std::string& owner, const std::string& chat_id,
                                                             const std::string& message_id, MessagePatch patch) {
  auto job = [&](SqliteDb& db) -> Result<Message> {
    std::lock_guard write(write_mutex_);
    Transaction tx(db, true);
    Message m;
    int64_t chat_number;
    {
      auto st = db.prepare("SELECT " MESSAGE_COLUMNS ", c.number FROM messages m JOIN chats c ON c.number = m.chat_number "
                           "WHERE m.id = ?1 AND c.id = ?2 AND c.owner = ?3");
      st.bind(1, message_id).bind(2, chat_id).bind(3, owner);
      if (!st.step()) return make_error(ErrorCode::not_found, "message not found");
      m = read_message(st, chat_id);
      chat_number = st.column_int(10);
    }
    if (patch.content) m.content = std::move(*patch.content);
    if (patch.status) m.status = *patch.status;
    if (patch.prompt_tokens) m.prompt_tokens = *patch.prompt_tokens;
    if (patch.completion_tokens) m.completion_tokens = *patch.completion_tokens;
    if (patch.finish_reason) m.finish_reason = std::move(*patch.finish_reason);
    auto st = db.prepare("UPDATE messages SET content = ?2, status = ?3, prompt_tokens = ?4, completion_tokens = ?5, "
                         "finish_reason = ?6 WHERE number = ?1");
    st.bind(1, m.number).bind(2, m.content).bind(3, to_string(m.status)).bind(4, m.prompt_tokens);
    st.bind(5, m.completion_tokens).bind(6, m.finish_reason).run();
    touch_chat(db, chat_number, now_ms());
    tx.commit();
    return m;
  };
  co_return std::move(*co_await with_db<Message>(job));
}

}  // namespace parley::store::sqlite
