#include "store/postgres/pg_chat_store.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "store/ids.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/postgres/pg_statements.hpp"
#include "store/validation.hpp"
#include "store/version_batch.hpp"

namespace asio = boost::asio;

namespace parley::store::postgres {
namespace {

Chat read_chat(const PgResult& r, int row) {
  Chat c;
  c.number = r.int64(row, 0);
  c.id = r.text(row, 1);
  c.owner = r.text(row, 2);
  c.username = r.optional_text(row, 3);
  c.title = r.text(row, 4);
  c.system_prompt = r.text(row, 5);
  c.settings = boost::json::parse(r.view(row, 6)).as_object();
  c.created_at = r.int64(row, 7);
  c.updated_at = r.int64(row, 8);
  return c;
}

// A message in columns [first, first + 10).
Message read_message(const PgResult& r, int row, int first, const std::string& chat_id) {
  Message m;
  m.number = r.int64(row, first);
  m.id = r.text(row, first + 1);
  m.chat_id = chat_id;
  m.role = parse_role(r.view(row, first + 2)).value_or(Role::user);
  m.content = r.text(row, first + 3);
  m.status = parse_status(r.view(row, first + 4)).value_or(MessageStatus::complete);
  m.created_at = r.int64(row, first + 5);
  m.prompt_tokens = r.int64(row, first + 6);
  m.completion_tokens = r.int64(row, first + 7);
  m.finish_reason = r.text(row, first + 8);
  m.client_key = r.optional_text(row, first + 9);
  return m;
}

// The rows of kGetChat (see pg_statements.cpp for the shared columns): the chat row (kind 0) and
// its messages (kind 1), in any order; messages come out ordered by number.
std::optional<ChatWithMessages> read_chat_with_messages(const PgResult& r) {
  std::optional<ChatWithMessages> out;
  const int rows = r.rows();
  for (int i = 0; i < rows; ++i) {
    if (r.int64(i, 0) != 0) continue;
    out.emplace();
    Chat& c = out->chat;
    c.number = r.int64(i, 1);
    c.id = r.text(i, 2);
    c.owner = r.text(i, 3);
    c.username = r.optional_text(i, 4);
    c.title = r.text(i, 5);
    c.system_prompt = r.text(i, 6);
    c.settings = boost::json::parse(r.view(i, 7)).as_object();
    c.created_at = r.int64(i, 8);
    c.updated_at = r.int64(i, 9);
    out->version = r.int64(i, 10);  // the row's counter; the message count is added below
    break;
  }
  if (!out) return out;
  out->messages.reserve(static_cast<size_t>(rows - 1));
  for (int i = 0; i < rows; ++i) {
    if (r.int64(i, 0) != 1) continue;
    Message& m = out->messages.emplace_back();
    m.number = r.int64(i, 1);
    m.id = r.text(i, 2);
    m.chat_id = out->chat.id;
    m.role = parse_role(r.view(i, 3)).value_or(Role::user);
    m.status = parse_status(r.view(i, 4)).value_or(MessageStatus::complete);
    m.content = r.text(i, 5);
    m.finish_reason = r.text(i, 7);
    m.created_at = r.int64(i, 8);
    m.prompt_tokens = r.int64(i, 9);
    m.completion_tokens = r.int64(i, 10);
    m.client_key = r.optional_text(i, 11);
  }
  auto by_number = [](const Message& a, const Message& b) { return a.number < b.number; };
  if (!std::is_sorted(out->messages.begin(), out->messages.end(), by_number))
    std::sort(out->messages.begin(), out->messages.end(), by_number);
  if (!out->messages.empty())
    out->chat.updated_at = std::max(out->chat.updated_at, out->messages.back().created_at);
  out->version += static_cast<int64_t>(out->messages.size());
  return out;
}

Error not_found_chat() { return make_error(ErrorCode::not_found, "chat not found"); }

}  // namespace

PostgresChatStore::PostgresChatStore(asio::any_io_executor executor, PostgresOptions options)
    : ChatStore(options.limits),
      options_(std::move(options)),
      pool_(std::make_unique<PgPool>(executor, options_.conninfo, options_.pool_size, chat_store_statements(),
                                     options_.connect_timeout, kSessionSetup)),
      version_pool_(std::make_unique<PgPool>(executor, options_.conninfo, 1, version_check_statements(),
                                             options_.connect_timeout, kVersionSessionSetup)) {
  auto query = [this](std::vector<VersionBatcher::Check> checks) -> asio::awaitable<Result<VersionBatcher::Versions>> {
    std::string ids;  // valid chat ids never hold a ','
    for (const auto& c : checks) {
      if (!ids.empty() && ids.find(c.chat_id) != std::string::npos) continue;
      if (!ids.empty()) ids += ',';
      ids += c.chat_id;
    }
    auto job = [&](PgConnection& conn) -> Async<VersionBatcher::Versions> {
      PgParams p;
      p.text(ids);
      PgResult r = co_await conn.query(kChatVersions, p);
      VersionBatcher::Versions out;
      out.reserve(static_cast<size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) out[r.text(i, 0)] = {r.text(i, 1), r.int64(i, 2)};
      co_return out;
    };
    co_return co_await with_connection<VersionBatcher::Versions>(job, version_pool_.get());
  };
  versions_ = std::make_shared<VersionBatcher>(executor, std::move(query));
}

PostgresChatStore::~PostgresChatStore() = default;

int64_t PostgresChatStore::connects() const { return pool_->connects() + version_pool_->connects(); }

std::pair<int64_t, int64_t> PostgresChatStore::version_checks() const {
  return {versions_->queries(), versions_->checks()};
}

// Runs fn(PgConnection&) -> awaitable<Result<R>> with a pooled connection and turns database
// trouble into values: unreachable/broken -> unavailable, unique violation -> conflict, foreign
// key violation (the chat vanished meanwhile) -> not_found. Anything else is a failure (throws).
template <typename R, typename F>
ChatStore::Async<R> PostgresChatStore::with_connection(F& fn, PgPool* pool) {
  std::optional<Error> error;
  try {
    auto lease = co_await (pool ? pool : pool_.get())->acquire();
    try {
      co_return co_await fn(*lease);
    } catch (const PgError& e) {
      if (e.broken()) lease.discard();
      throw;
    }
  } catch (const PgError& e) {
    const std::string& state = e.sqlstate();
    if (e.broken() || state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 || state == "53300" ||
        state == "40001" || state == "40P01")
      error = make_error(ErrorCode::unavailable, "database unavailable");
    else if (state == "23505")
      error = make_error(ErrorCode::conflict, "conflicts with an existing chat or message");
    else if (state == "23503")
      error = not_found_chat();
    else
      throw;
  }
  co_return *error;
}

ChatStore::Async<Unit> PostgresChatStore::check_ready() {
  auto job = [](PgConnection& conn) -> Async<Unit> {
    co_await conn.query(kPing);
    co_return Unit{};
  };
  co_return co_await with_connection<Unit>(job);
}

ChatStore::Async<Chat> PostgresChatStore::do_create_chat(const std::string& owner, NewChat in) {
  auto job = [&](PgConnection& conn) -> Async<Chat> {
    Chat c;
    c.id = new_chat_id();
    c.owner = owner;
    c.username = in.username;
    c.title = in.title;
    c.system_prompt = in.system_prompt;
    c.settings = in.settings;
    c.created_at = c.updated_at = now_ms();
    PgParams p;
    p.text(c.id).text(c.owner).optional_text(c.username).text(c.title).text(c.system_prompt);
    p.text(boost::json::serialize(c.settings)).int64(c.created_at);
    if (in.messages.empty()) {
      PgResult r = co_await conn.query(kCreateChat, p);
      c.number = r.int64(0, 0);
      co_return c;
    }
    // With messages: one transaction. On a server error roll back; a broken connection is dropped.
    co_await conn.exec("BEGIN");
    std::optional<PgError> failed;
    try {
      PgResult r = co_await conn.query(kCreateChat, p);
      c.number = r.int64(0, 0);
      for (const NewMessage& m : in.messages) {
        PgParams mp;
        mp.text(new_message_id()).int64(c.number).text(to_string(m.role)).text(m.content);
        mp.text(to_string(m.status)).int64(c.created_at).int64(m.prompt_tokens).int64(m.completion_tokens);
        mp.text(m.finish_reason).optional_text(m.client_key);
        co_await conn.query(kInsertMessage, mp);
      }
      co_await conn.exec("COMMIT");
    } catch (const PgError& e) {
      if (e.broken()) throw;
      failed = e;
    }
    if (failed) {
      co_await conn.exec("ROLLBACK");
      throw *failed;
    }
    co_return c;
  };
  co_return co_await with_connection<Chat>(job);
}

ChatStore::Async<ChatPage> PostgresChatStore::do_list_chats(const std::string& owner, ListChatsQuery q) {
  auto job = [&](PgConnection& conn) -> Async<ChatPage> {
    PgParams p;
    p.text(owner);
    p.optional_int64(q.cursor ? decode_cursor(*q.cursor) : std::nullopt);
    p.optional_int64(q.number).optional_text(q.username).int64(q.limit + 1);
    PgResult r = co_await conn.query(kListChats, p);
    ChatPage page;
    for (int i = 0; i < r.rows() && i < q.limit; ++i) page.chats.push_back(read_chat(r, i));
    if (r.rows() > q.limit) page.next_cursor = encode_cursor(page.chats.back().number);
    co_return page;
  };
  co_return co_await with_connection<ChatPage>(job);
}

ChatStore::Async<ChatWithMessages> PostgresChatStore::do_get_chat(const std::string& owner, const std::string& chat_id) {
  auto job = [&](PgConnection& conn) -> Async<ChatWithMessages> {
    PgParams p;
    p.text(chat_id).text(owner);
    std::optional<ChatWithMessages> out = read_chat_with_messages(co_await conn.query(kGetChat, p));
    if (!out) co_return not_found_chat();
    co_return std::move(*out);
  };
  co_return co_await with_connection<ChatWithMessages>(job);
}

// The version alone first (about a third of the database's CPU of the whole read of 20 messages); the chat only
// when it changed, on the same connection (a change in between is read whole, with its version).
ChatStore::Async<std::optional<ChatWithMessages>> PostgresChatStore::do_get_chat_if_changed(
    const std::string& owner, const std::string& chat_id, int64_t known_version) {
  using Out = std::optional<ChatWithMessages>;
  auto job = [&](PgConnection& conn) -> Async<Out> {
    PgParams p;
    p.text(chat_id).text(owner);
    Out out = read_chat_with_messages(co_await conn.query(kGetChat, p));
    if (!out) co_return not_found_chat();
    co_return out;
  };
  if (known_version > 0) {
    // Batched with the checks of concurrent requests (store/version_batch.hpp).
    if (!is_valid_chat_id(chat_id)) co_return not_found_chat();
    auto v = co_await versions_->version(chat_id, owner);
    if (!v) co_return v.error();
    if (!*v) co_return not_found_chat();
    if (**v == known_version) co_return Out();
  }
  co_return co_await with_connection<Out>(job);
}

ChatStore::Async<std::vector<std::optional<int64_t>>> PostgresChatStore::do_chat_versions(std::vector<ChatRef> refs) {
  co_return co_await versions_->versions(std::move(refs));  // with the checks of concurrent requests
}

ChatStore::Async<Chat> PostgresChatStore::do_update_chat(const std::string& owner, const std::string& chat_id,
                                                         ChatPatch patch) {
  auto job = [&](PgConnection& conn) -> Async<Chat> {
    PgParams p;
    p.text(chat_id).text(owner).optional_text(patch.title).optional_text(patch.system_prompt);
    if (patch.settings)
      p.text(boost::json::serialize(*patch.settings));
    else
      p.null();
    p.int64(now_ms());
    PgResult r = co_await conn.query(kUpdateChat, p);
    if (r.rows() == 0) co_return not_found_chat();
    co_return read_chat(r, 0);
  };
  co_return co_await with_connection<Chat>(job);
}

ChatStore::Async<Unit> PostgresChatStore::do_delete_chat(const std::string& owner, const std::string& chat_id) {
  auto job = [&](PgConnection& conn) -> Async<Unit> {
    PgParams p;
    p.text(chat_id).text(owner);
    PgResult r = co_await conn.query(kDeleteChat, p);
    if (r.affected() == 0) co_return not_found_chat();
    co_return Unit{};
  };
  co_return co_await with_connection<Unit>(job);
}

ChatStore::Async<AppendResult> PostgresChatStore::do_append_message(const std::string& owner,
                                                                    const std::string& chat_id, NewMessage m) {
  auto job = [&](PgConnection& conn) -> Async<AppendResult> {
    PgParams p;
    p.text(chat_id).text(owner).text(new_message_id()).text(to_string(m.role)).text(m.content);
    p.text(to_string(m.status)).int64(now_ms()).int64(m.prompt_tokens).int64(m.completion_tokens);
    p.optional_text(m.client_key).text(m.finish_reason);
    for (int attempt = 0; attempt < 3; ++attempt) {
      PgResult r = co_await conn.query(kAppendMessage, p);
      if (r.rows() == 0) co_return not_found_chat();
      if (r.is_null(0, 0)) continue;  // lost a race on the client key: the next run sees the winner
      co_return AppendResult{read_message(r, 0, 1, chat_id), r.boolean(0, 0)};
    }
    co_return make_error(ErrorCode::conflict, "concurrent posts with this client_key");
  };
  co_return co_await with_connection<AppendResult>(job);
}

ChatStore::Async<Message> PostgresChatStore::do_update_message(const std::string& owner, const std::string& chat_id,
                                                               const std::string& message_id, MessagePatch patch) {
  auto job = [&](PgConnection& conn) -> Async<Message> {
    PgParams p;
    p.text(message_id).text(chat_id).text(owner).optional_text(patch.content);
    if (patch.status)
      p.text(to_string(*patch.status));
    else
      p.null();
    p.optional_int64(patch.prompt_tokens).optional_int64(patch.completion_tokens);
    p.optional_text(patch.finish_reason).int64(now_ms());
    PgResult r = co_await conn.query(kUpdateMessage, p);
    if (r.rows() == 0) co_return make_error(ErrorCode::not_found, "message not found");
    co_return read_message(r, 0, 0, chat_id);
  };
  co_return co_await with_connection<Message>(job);
}

}  // namespace parley::store::postgres
