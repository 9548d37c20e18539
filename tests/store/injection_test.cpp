// SQL injection strings in every field a client controls, on SQLite and on a real PostgreSQL: each is
// stored and read back byte for byte, and has no effect (every table, and other owners' chats, are
// still there and still invisible to the injector).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/ids.hpp"
#include "store/postgres/pg_chat_store.hpp"
#include "store/sqlite/sqlite_chat_store.hpp"
#include "support/async_runner.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace parley::test {
namespace {

using store::ChatStore;

// Classic payloads, quoting and placeholder tricks of both SQL dialects, LIKE wildcards, comments.
const std::vector<std::string>& payloads() {
  static const std::vector<std::string> p = {
      "'; DROP TABLE messages; --",
      "\"; DROP TABLE chats; --",
      "\" OR 1=1 --",
      "' OR '1'='1",
      "' OR 1=1 --",
      "1; DELETE FROM chats",
      "') ; DELETE FROM messages WHERE ('1'='1",
      "' UNION SELECT owner, title, system_prompt FROM chats --",
      "$1",
      "$1, $2); DROP TABLE chats; --",
      "$$; DROP TABLE chats; $$",
      "?; DROP TABLE chats",
      ":owner",
      "@owner",
      "\\",
      "\\'; DROP TABLE chats; --",
      "\\\\'",
      "E'\\x27'",
      "%' OR owner LIKE '%",
      "_%",
      "/* */ OR 1=1",
      "`chats`",
      "'||(SELECT string_agg(owner, ',') FROM chats)||'",
      "x'; COMMIT; DROP TABLE chats; BEGIN; --",
      "Ω'; DROP TABLE messages; -- ✓",
  };
  return p;
}

struct Backend {
  std::string name;
  std::function<std::shared_ptr<ChatStore>(AsyncRunner&)> make;
  friend void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }
};

class SqlInjection : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { store_ = GetParam().make(rt_); }
  void TearDown() override { store_.reset(); }
  template <typename T>
  T run(boost::asio::awaitable<T> aw) { return rt_.run(std::move(aw)); }

  // Another owner's chat that must survive everything, and stay invisible.
  std::pair<std::string, std::string> bystander() {
    std::string owner = "bystander-" + random_id();
    store::NewChat c{.title = "bystander", .system_prompt = "secret prompt"};
    c.messages.push_back({.role = store::Role::user, .content = "secret message"});
    auto r = run(store_->create_chat(owner, std::move(c)));
    EXPECT_TRUE(r.ok());
    return {owner, r.ok() ? r->id : ""};
  }
  void expect_intact(const std::pair<std::string, std::string>& b) {
    auto chat = run(store_->get_chat(b.first, b.second));
    ASSERT_TRUE(chat.ok()) << (chat.ok() ? "" : chat.error().message);
    EXPECT_EQ(chat->chat.title, "bystander");
    EXPECT_EQ(chat->chat.system_prompt, "secret prompt");
    ASSERT_EQ(chat->messages.size(), 1u);
    EXPECT_EQ(chat->messages[0].content, "secret message");
  }

  AsyncRunner rt_{2};
  std::shared_ptr<ChatStore> store_;
};

TEST_P(SqlInjection, EveryTextFieldIsStoredVerbatim) {
  auto by = bystander();
  const std::string owner = "owner-" + random_id();
  for (const std::string& p : payloads()) {
    store::NewChat c{.title = p, .system_prompt = p, .settings = boost::json::object{{p, p}, {"temperature", 0.5}}};
    c.messages.push_back({.role = store::Role::user, .content = p, .client_key = "k0" + p.substr(0, 60)});
    // client_key and finish_reason are printable ASCII without spaces: payloads with spaces become
    // their space-free spelling.
    std::string ascii;
    for (char ch : p)
      if (ch != ' ' && static_cast<unsigned char>(ch) < 0x7f) ascii.push_back(ch);
    if (ascii.empty()) ascii = "x";
    c.messages.back().client_key = "k0" + ascii.substr(0, 100);
    auto created = run(store_->create_chat(owner, std::move(c)));
    ASSERT_TRUE(created.ok()) << p << ": " << created.error().message;
    EXPECT_EQ(created->title, p);

    store::NewMessage reply{.role = store::Role::assistant, .content = p, .finish_reason = ascii.substr(0, 64),
                            .client_key = "k1" + ascii.substr(0, 100)};
    auto appended = run(store_->append_message(owner, created->id, reply));
    ASSERT_TRUE(appended.ok()) << p << ": " << appended.error().message;
    EXPECT_TRUE(appended->created);
    // The same key again is the same message (the key is compared as data, not as SQL).
    auto again = run(store_->append_message(owner, created->id, reply));
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->created) << p;
    EXPECT_EQ(again->message.id, appended->message.id);

    store::ChatPatch patch{.title = p + "!", .system_prompt = "!" + p};
    ASSERT_TRUE(run(store_->update_chat(owner, created->id, patch)).ok()) << p;
    store::MessagePatch mpatch{.content = p + p, .finish_reason = ascii.substr(0, 64)};
    ASSERT_TRUE(run(store_->update_message(owner, created->id, appended->message.id, mpatch)).ok()) << p;

    auto got = run(store_->get_chat(owner, created->id));
    ASSERT_TRUE(got.ok()) << p;
    EXPECT_EQ(got->chat.title, p + "!");
    EXPECT_EQ(got->chat.system_prompt, "!" + p);
    ASSERT_TRUE(got->chat.settings.contains(p)) << p;
    EXPECT_EQ(got->chat.settings.at(p).as_string(), p);
    ASSERT_EQ(got->messages.size(), 2u) << p;
    EXPECT_EQ(got->messages[0].content, p);
    EXPECT_EQ(got->messages[0].client_key.value_or(""), "k0" + ascii.substr(0, 100));
    EXPECT_EQ(got->messages[1].content, p + p);
    EXPECT_EQ(got->messages[1].finish_reason, ascii.substr(0, 64));
  }
  auto page = run(store_->list_chats(owner, store::ListChatsQuery{.limit = 100}));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->chats.size(), payloads().size()) << "one chat per payload, no more, no fewer";
  expect_intact(by);
}

TEST_P(SqlInjection, InjectedOwnersSeeOnlyTheirOwnChats) {
  auto by = bystander();
  for (const std::string& p : payloads()) {
    std::string owner = p + random_id().substr(0, 6);  // unique per run (backends share a database)
    auto page = run(store_->list_chats(owner, store::ListChatsQuery{.limit = 100}));
    ASSERT_TRUE(page.ok()) << p << ": " << page.error().message;
    EXPECT_TRUE(page->chats.empty()) << "owner " << p << " sees " << page->chats.size() << " chats";
    EXPECT_EQ(run(store_->get_chat(owner, by.second)).error().code, ErrorCode::not_found) << p;
    store::ChatPatch patch{.title = "pwned"};
    EXPECT_EQ(run(store_->update_chat(owner, by.second, patch)).error().code, ErrorCode::not_found) << p;
    EXPECT_EQ(run(store_->delete_chat(owner, by.second)).error().code, ErrorCode::not_found) << p;
    store::NewMessage m{.role = store::Role::user, .content = "pwned"};
    EXPECT_EQ(run(store_->append_message(owner, by.second, m)).error().code, ErrorCode::not_found) << p;
    // Its own chat works, under exactly that owner only.
    auto mine = run(store_->create_chat(owner, store::NewChat{.title = p}));
    ASSERT_TRUE(mine.ok()) << p;
    auto listed = run(store_->list_chats(owner, store::ListChatsQuery{.limit = 100}));
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->chats.size(), 1u) << p;
    EXPECT_EQ(listed->chats[0].owner, owner);
    EXPECT_EQ(run(store_->get_chat(by.first, mine->id)).error().code, ErrorCode::not_found) << p;
  }
  expect_intact(by);
}

TEST_P(SqlInjection, InjectedIdsCursorsAndUsernamesAreRejectedOrFindNothing) {
  auto by = bystander();
  const std::string owner = "owner-" + random_id();
  auto mine = run(store_->create_chat(owner, store::NewChat{.title = "mine"}));
  ASSERT_TRUE(mine.ok());
  for (const std::string& p : payloads()) {
    for (const std::string& id : {p, by.second + p, "chat_" + p}) {
      auto got = run(store_->get_chat(owner, id));
      ASSERT_FALSE(got.ok()) << id;
      EXPECT_TRUE(got.error().code == ErrorCode::invalid_argument || got.error().code == ErrorCode::not_found) << id;
      EXPECT_FALSE(run(store_->delete_chat(owner, id)).ok()) << id;
      store::MessagePatch patch{.content = "x"};
      EXPECT_FALSE(run(store_->update_message(owner, mine->id, id, patch)).ok()) << id;
    }
    auto cursor = run(store_->list_chats(owner, store::ListChatsQuery{.cursor = p}));
    ASSERT_FALSE(cursor.ok()) << p;
    EXPECT_EQ(cursor.error().code, ErrorCode::invalid_argument) << p;
    auto by_name = run(store_->list_chats(owner, store::ListChatsQuery{.username = p}));
    ASSERT_TRUE(by_name.ok()) << p << ": " << by_name.error().message;
    EXPECT_TRUE(by_name->chats.empty()) << "username " << p << " matched something";
  }
  // A chat whose username is a payload is found by exactly that username and no other.
  store::NewChat named{.title = "named", .username = "' OR '1'='1"};
  auto n = run(store_->create_chat(owner, named));
  ASSERT_TRUE(n.ok());
  auto exact = run(store_->list_chats(owner, store::ListChatsQuery{.username = "' OR '1'='1"}));
  ASSERT_TRUE(exact.ok());
  ASSERT_EQ(exact->chats.size(), 1u);
  EXPECT_EQ(exact->chats[0].id, n->id);
  expect_intact(by);
  auto all = run(store_->list_chats(owner, store::ListChatsQuery{.limit = 100}));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->chats.size(), 2u);
}

TEST_P(SqlInjection, NulAndControlBytesInContentRoundTrip) {
  // Content is any valid UTF-8, U+0000 included (store/chat_store.hpp).
  const std::string owner = "owner-" + random_id();
  auto chat = run(store_->create_chat(owner, store::NewChat{.title = "nul"}));
  ASSERT_TRUE(chat.ok());
  for (std::string p : payloads()) {
    std::string content = std::string("a\0b", 3) + p + std::string(1, '\0') + "\x01\x1f\x7f" + p;
    store::NewMessage m{.role = store::Role::user, .content = content};
    auto r = run(store_->append_message(owner, chat->id, m));
    ASSERT_TRUE(r.ok()) << p << ": " << r.error().message;
    EXPECT_EQ(r->message.content, content);
  }
  auto got = run(store_->get_chat(owner, chat->id));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->messages.size(), payloads().size());
  for (size_t i = 0; i < payloads().size(); ++i)
    EXPECT_EQ(got->messages[i].content.size(), 3 + 2 * payloads()[i].size() + 4) << payloads()[i];
}

std::shared_ptr<ChatStore> make_sqlite(AsyncRunner&) {
  auto dir = std::make_shared<TempDir>("parley-injection");
  auto store = std::make_shared<store::sqlite::SqliteChatStore>(dir->file("chats.db"));
  return std::shared_ptr<ChatStore>(store.get(), [store, dir](ChatStore*) mutable {
    store.reset();
    dir.reset();
  });
}

std::shared_ptr<ChatStore> make_postgres(AsyncRunner& rt) {
  static const std::string url = [] {
    std::string u = shared_postgres().create_database("injection");
    store::postgres::migrate_postgres(u);
    return u;
  }();
  return std::make_shared<store::postgres::PostgresChatStore>(rt.executor(),
                                                              store::postgres::PostgresOptions{.conninfo = url});
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlInjection,
                         testing::Values(Backend{"sqlite", make_sqlite}, Backend{"postgres", make_postgres}),
                         [](const testing::TestParamInfo<Backend>& info) { return info.param.name; });

}  // namespace
}  // namespace parley::test
