// The ChatStore contract: one test suite every implementation must pass (SQLite, PostgreSQL, the
// HTTP client of db-api). A test binary includes this header once and instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, ChatStoreContract, testing::Values(ContractBackend{
//       "sqlite", [](AsyncRunner& rt) -> std::shared_ptr<ChatStore> { ... }}),
//       [](const auto& info) { return info.param.name; });
//
// Each test makes a fresh store through the factory and works under fresh random owners, so
// backends may share one database between tests.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "store/chat_store.hpp"
#include "store/validation.hpp"
#include "support/async_runner.hpp"
#include "support/utf8_sampler.hpp"

namespace parley::test {

struct ContractBackend {
  std::string name;
  std::function<std::shared_ptr<store::ChatStore>(AsyncRunner&)> make;
  friend void PrintTo(const ContractBackend& b, std::ostream* os) { *os << b.name; }
};

class ChatStoreContract : public testing::TestWithParam<ContractBackend> {
 protected:
  void SetUp() override { store_ = GetParam().make(rt_); }
  void TearDown() override { store_.reset(); }

  template <typename T>
  T run(boost::asio::awaitable<T> aw) { return rt_.run(std::move(aw)); }

  static std::string owner() { return "owner-" + random_id(); }

  store::Chat create(const std::string& owner, store::NewChat chat = {}) {
    auto r = run(store_->create_chat(owner, std::move(chat)));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : store::Chat{};
  }
  store::Message append(const std::string& owner, const std::string& chat_id, std::string content,
                        store::Role role = store::Role::user, std::optional<std::string> key = std::nullopt) {
    store::NewMessage m;
    m.role = role;
    m.content = std::move(content);
    m.client_key = std::move(key);
    auto r = run(store_->append_message(owner, chat_id, std::move(m)));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r->message : store::Message{};
  }
  std::vector<store::Message> messages(const std::string& owner, const std::string& chat_id) {
    auto r = run(store_->get_chat(owner, chat_id));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r->messages : std::vector<store::Message>{};
  }

  AsyncRunner rt_{2};
  std::shared_ptr<store::ChatStore> store_;
};

TEST_P(ChatStoreContract, CreateThenGetReturnsEveryField) {
  auto me = owner();
  store::NewChat in;
  in.title = "Trip planning";
  in.system_prompt = "You are terse.";
  in.settings = boost::json::object{{"temperature", 0.5}, {"max_tokens", 256}};
  auto chat = create(me, in);
  EXPECT_TRUE(store::is_valid_chat_id(chat.id)) << chat.id;
  EXPECT_GT(chat.number, 0);
  EXPECT_EQ(chat.owner, me);
  EXPECT_GT(chat.created_at, 1'600'000'000'000);
  EXPECT_EQ(chat.created_at, chat.updated_at);

  auto got = run(store_->get_chat(me, chat.id));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->chat.id, chat.id);
  EXPECT_EQ(got->chat.number, chat.number);
  EXPECT_EQ(got->chat.title, "Trip planning");
  EXPECT_EQ(got->chat.system_prompt, "You are terse.");
  EXPECT_EQ(got->chat.settings, in.settings);
  EXPECT_EQ(got->chat.created_at, chat.created_at);
  EXPECT_FALSE(got->chat.username.has_value());
  EXPECT_TRUE(got->messages.empty());
}

TEST_P(ChatStoreContract, MessagesComeBackInOrderWithEveryField) {
  auto me = owner();
  auto chat = create(me);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i)
    ids.push_back(append(me, chat.id, "message " + std::to_string(i), i % 2 ? store::Role::assistant : store::Role::user).id);
  store::NewMessage full;
  full.role = store::Role::assistant;
  full.content = "done";
  full.status = store::MessageStatus::partial;
  full.prompt_tokens = 12;
  full.completion_tokens = 34;
  full.finish_reason = "length";
  full.client_key = "key-full";
  auto appended = run(store_->append_message(me, chat.id, full));
  ASSERT_TRUE(appended.ok());
  EXPECT_TRUE(appended->created);

  auto got = run(store_->get_chat(me, chat.id));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->messages.size(), 7u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(got->messages[i].id, ids[i]);
    EXPECT_EQ(got->messages[i].content, "message " + std::to_string(i));
    EXPECT_EQ(got->messages[i].chat_id, chat.id);
    EXPECT_EQ(got->messages[i].role, i % 2 ? store::Role::assistant : store::Role::user);
    EXPECT_EQ(got->messages[i].status, store::MessageStatus::complete);
    if (i) {
      EXPECT_GT(got->messages[i].number, got->messages[i - 1].number);
    }
  }
  const auto& last = got->messages.back();
  EXPECT_TRUE(store::is_valid_message_id(last.id));
  EXPECT_EQ(last.status, store::MessageStatus::partial);
  EXPECT_EQ(last.prompt_tokens, 12);
  EXPECT_EQ(last.completion_tokens, 34);
  EXPECT_EQ(last.finish_reason, "length");
  EXPECT_EQ(last.client_key, std::optional<std::string>("key-full"));
  EXPECT_GE(got->chat.updated_at, got->chat.created_at);
  // A chat's updated_at covers its last message, in get and in list.
  EXPECT_GE(got->chat.updated_at, last.created_at);
  auto page = run(store_->list_chats(me, {}));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->chats.size(), 1u);
  EXPECT_EQ(page->chats[0].updated_at, got->chat.updated_at);
}

TEST_P(ChatStoreContract, CreateWithMessagesStoresThemAtomically) {
  auto me = owner();
  store::NewChat in;
  for (auto role : {store::Role::system, store::Role::user, store::Role::assistant})
    in.messages.push_back({role, std::string("first ") + store::to_string(role)});
  auto chat = create(me, in);
  auto msgs = messages(me, chat.id);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0].role, store::Role::system);
  EXPECT_EQ(msgs[2].content, "first assistant");

  // One bad message: nothing at all is written.
  auto other = owner();
  store::NewChat bad;
  bad.messages.push_back({store::Role::user, "fine"});
  bad.messages.push_back({store::Role::user, ""});
  auto r = run(store_->create_chat(other, bad));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  auto page = run(store_->list_chats(other, {}));
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->chats.empty());
}

TEST_P(ChatStoreContract, PostingTwiceWithOneClientKeyStoresOneMessage) {
  auto me = owner();
  auto chat = create(me);
  store::NewMessage m{store::Role::user, "hello"};
  m.client_key = "retry-1";
  auto first = run(store_->append_message(me, chat.id, m));
  auto second = run(store_->append_message(me, chat.id, m));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(first->message.id, second->message.id);
  EXPECT_EQ(messages(me, chat.id).size(), 1u);

  // The same key in another chat is another message.
  auto chat2 = create(me);
  auto third = run(store_->append_message(me, chat2.id, m));
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->created);
  EXPECT_NE(third->message.id, first->message.id);
}

TEST_P(ChatStoreContract, UpdateMessageFinalizesAReply) {
  auto me = owner();
  auto chat = create(me);
  store::NewMessage placeholder{store::Role::assistant, "", store::MessageStatus::partial};
  auto r = run(store_->append_message(me, chat.id, placeholder));
  ASSERT_TRUE(r.ok()) << r.error().message;
  store::MessagePatch patch;
  patch.content = "The answer is 42.";
  patch.status = store::MessageStatus::complete;
  patch.prompt_tokens = 20;
  patch.completion_tokens = 7;
  patch.finish_reason = "stop";
  auto u = run(store_->update_message(me, chat.id, r->message.id, patch));
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->content, "The answer is 42.");
  EXPECT_EQ(u->status, store::MessageStatus::complete);
  auto msgs = messages(me, chat.id);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].content, "The answer is 42.");
  EXPECT_EQ(msgs[0].status, store::MessageStatus::complete);
  EXPECT_EQ(msgs[0].prompt_tokens, 20);
  EXPECT_EQ(msgs[0].completion_tokens, 7);
  EXPECT_EQ(msgs[0].finish_reason, "stop");
  EXPECT_EQ(msgs[0].role, store::Role::assistant);

  // Only the given fields change.
  store::MessagePatch only_status;
  only_status.status = store::MessageStatus::error;
  auto u2 = run(store_->update_message(me, chat.id, r->message.id, only_status));
  ASSERT_TRUE(u2.ok());
  EXPECT_EQ(u2->content, "The answer is 42.");
  EXPECT_EQ(u2->completion_tokens, 7);
  EXPECT_EQ(u2->status, store::MessageStatus::error);

  auto missing = run(store_->update_message(me, chat.id, "msg_" + random_id(), patch));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST_P(ChatStoreContract, UpdateChatChangesOnlyGivenFields) {
  auto me = owner();
  store::NewChat in;
  in.title = "old";
  in.system_prompt = "old prompt";
  in.settings = boost::json::object{{"temperature", 1.0}};
  auto chat = create(me, in);
  store::ChatPatch patch;
  patch.title = "new title";
  auto u = run(store_->update_chat(me, chat.id, patch));
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->title, "new title");
  EXPECT_EQ(u->system_prompt, "old prompt");
  EXPECT_EQ(u->settings, in.settings);
  EXPECT_GE(u->updated_at, chat.updated_at);
  store::ChatPatch patch2;
  patch2.system_prompt = "";
  patch2.settings = boost::json::object{{"top_p", 0.9}};
  ASSERT_TRUE(run(store_->update_chat(me, chat.id, patch2)).ok());
  auto got = run(store_->get_chat(me, chat.id));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->chat.title, "new title");
  EXPECT_EQ(got->chat.system_prompt, "");
  EXPECT_EQ(got->chat.settings, (boost::json::object{{"top_p", 0.9}}));
}

TEST_P(ChatStoreContract, DeleteRemovesTheChatAndItsMessages) {
  auto me = owner();
  auto chat = create(me);
  auto msg = append(me, chat.id, "bye");
  ASSERT_TRUE(run(store_->delete_chat(me, chat.id)).ok());
  auto got = run(store_->get_chat(me, chat.id));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::not_found);
  auto again = run(store_->delete_chat(me, chat.id));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::not_found);
  auto post = run(store_->append_message(me, chat.id, {store::Role::user, "late"}));
  ASSERT_FALSE(post.ok());
  EXPECT_EQ(post.error().code, ErrorCode::not_found);
  store::MessagePatch patch;
  patch.content = "x";
  auto upd = run(store_->update_message(me, chat.id, msg.id, patch));
  ASSERT_FALSE(upd.ok());
  EXPECT_EQ(upd.error().code, ErrorCode::not_found);
}

TEST_P(ChatStoreContract, AnotherOwnersChatIsNotFoundForEveryOperation) {
  auto alice = owner(), mallory = owner();
  auto chat = create(alice, {.title = "secret"});
  auto msg = append(alice, chat.id, "private");
  auto missing_id = "chat_" + random_id();
  for (const auto& id : {chat.id, missing_id}) {
    auto g = run(store_->get_chat(mallory, id));
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().code, ErrorCode::not_found);
    EXPECT_EQ(g.error().message, "chat not found");
    store::ChatPatch cp;
    cp.title = "pwned";
    auto u = run(store_->update_chat(mallory, id, cp));
    ASSERT_FALSE(u.ok());
    EXPECT_EQ(u.error().code, ErrorCode::not_found);
    auto a = run(store_->append_message(mallory, id, {store::Role::user, "injected"}));
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error().code, ErrorCode::not_found);
    store::MessagePatch mp;
    mp.content = "pwned";
    auto um = run(store_->update_message(mallory, id, msg.id, mp));
    ASSERT_FALSE(um.ok());
    EXPECT_EQ(um.error().code, ErrorCode::not_found);
    auto d = run(store_->delete_chat(mallory, id));
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code, ErrorCode::not_found);
  }
  auto page = run(store_->list_chats(mallory, {}));
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->chats.empty());
  auto by_number = run(store_->list_chats(mallory, {.number = chat.number}));
  ASSERT_TRUE(by_number.ok());
  EXPECT_TRUE(by_number->chats.empty());
  // Alice's chat is untouched.
  auto got = run(store_->get_chat(alice, chat.id));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->chat.title, "secret");
  ASSERT_EQ(got->messages.size(), 1u);
  EXPECT_EQ(got->messages[0].content, "private");
}

TEST_P(ChatStoreContract, ListIsNewestFirstWithCursorPages) {
  auto me = owner();
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(create(me, {.title = "chat " + std::to_string(i)}).id);
  create(owner());  // someone else's
  std::vector<std::string> seen;
  std::optional<std::string> cursor;
  int pages = 0;
  do {
    auto page = run(store_->list_chats(me, {.limit = 3, .cursor = cursor}));
    ASSERT_TRUE(page.ok()) << page.error().message;
    ++pages;
    for (const auto& c : page->chats) seen.push_back(c.id);
    cursor = page->next_cursor;
    ASSERT_LE(pages, 3);
  } while (cursor);
  EXPECT_EQ(pages, 3);
  std::reverse(ids.begin(), ids.end());
  EXPECT_EQ(seen, ids);

  auto bad = run(store_->list_chats(me, {.cursor = "garbage"}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  auto zero = run(store_->list_chats(me, {.limit = 0}));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, ErrorCode::invalid_argument);
}

TEST_P(ChatStoreContract, UsernameIsUniquePerOwnerAndFindable) {
  auto session = owner(), other = owner();
  auto chat = create(session, {.username = "alice"});
  auto dup = run(store_->create_chat(session, {.username = "alice"}));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);
  create(session, {.username = "bob"});
  create(other, {.username = "alice"});
  auto found = run(store_->list_chats(session, {.username = "alice"}));
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->chats.size(), 1u);
  EXPECT_EQ(found->chats[0].id, chat.id);
  EXPECT_EQ(found->chats[0].username, std::optional<std::string>("alice"));
  auto by_number = run(store_->list_chats(session, {.number = chat.number}));
  ASSERT_TRUE(by_number.ok());
  ASSERT_EQ(by_number->chats.size(), 1u);
  EXPECT_EQ(by_number->chats[0].id, chat.id);
}

TEST_P(ChatStoreContract, LongContentRoundTripsByteForByte) {
  auto me = owner();
  auto chat = create(me);
  const size_t limit = store_->limits().max_content_bytes;
  ASSERT_EQ(limit, 256u * 1024);
  std::string content;
  content.reserve(limit);
  const std::string sampler = utf8_sampler();
  while (content.size() + sampler.size() <= limit) content += sampler;
  while (content.size() < limit) content.push_back(static_cast<char>('a' + content.size() % 26));
  ASSERT_EQ(content.size(), limit);
  auto m = append(me, chat.id, content);
  auto msgs = messages(me, chat.id);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(msgs[0].content == content) << "content differs after a round trip";
  // A system prompt of the same size too.
  store::ChatPatch patch;
  patch.system_prompt = content;
  ASSERT_TRUE(run(store_->update_chat(me, chat.id, patch)).ok());
  auto got = run(store_->get_chat(me, chat.id));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->chat.system_prompt == content);

  // One byte over: payload_too_large, and nothing is written.
  auto over = run(store_->append_message(me, chat.id, {store::Role::user, content + "x"}));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::payload_too_large);
  store::MessagePatch mp;
  mp.content = content + "x";
  auto over2 = run(store_->update_message(me, chat.id, m.id, mp));
  ASSERT_FALSE(over2.ok());
  EXPECT_EQ(over2.error().code, ErrorCode::payload_too_large);
  EXPECT_EQ(messages(me, chat.id).size(), 1u);
}

TEST_P(ChatStoreContract, UnicodeRoundTripsAndInvalidUtf8IsRejected) {
  auto me = owner();
  const std::string text = utf8_sampler();
  ASSERT_TRUE(store::is_valid_utf8(text));
  auto chat = create(me, {.title = text, .system_prompt = text});
  append(me, chat.id, text);
  auto got = run(store_->get_chat(me, chat.id));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->chat.title, text);
  EXPECT_EQ(got->chat.system_prompt, text);
  ASSERT_EQ(got->messages.size(), 1u);
  EXPECT_EQ(got->messages[0].content, text);

  for (std::string bad : {std::string("\xc3\x28"), std::string("\xed\xa0\x80"), std::string("\xc0\xaf"),
                          std::string("\xf5\x80\x80\x80"), std::string("ok\xe2\x82")}) {
    auto r = run(store_->append_message(me, chat.id, {store::Role::user, bad}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  }
  EXPECT_EQ(messages(me, chat.id).size(), 1u);
}

TEST_P(ChatStoreContract, BadInputIsInvalidArgumentAndWritesNothing) {
  auto me = owner();
  auto chat = create(me);
  auto expect_invalid = [](const auto& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << r.error().message;
  };
  expect_invalid(run(store_->append_message(me, chat.id, {store::Role::user, ""})));
  expect_invalid(run(store_->append_message(me, chat.id, {store::Role::assistant, ""})));  // complete + empty
  expect_invalid(run(store_->append_message(me, "not-an-id", {store::Role::user, "x"})));
  expect_invalid(run(store_->append_message(me, "CHAT_" + random_id(), {store::Role::user, "x"})));
  expect_invalid(run(store_->append_message("", chat.id, {store::Role::user, "x"})));
  expect_invalid(run(store_->append_message("bad\nowner", chat.id, {store::Role::user, "x"})));
  store::NewMessage negative{store::Role::user, "x"};
  negative.prompt_tokens = -1;
  expect_invalid(run(store_->append_message(me, chat.id, negative)));
  store::NewMessage long_key{store::Role::user, "x"};
  long_key.client_key = std::string(129, 'k');
  expect_invalid(run(store_->append_message(me, chat.id, long_key)));
  store::NewMessage empty_key{store::Role::user, "x"};
  empty_key.client_key = "";
  expect_invalid(run(store_->append_message(me, chat.id, empty_key)));
  expect_invalid(run(store_->get_chat(me, "chat_123")));
  expect_invalid(run(store_->update_message(me, chat.id, "msg_nope", {})));
  expect_invalid(run(store_->create_chat(me, {.title = std::string(1025, 't')})));
  EXPECT_TRUE(messages(me, chat.id).empty());
  auto page = run(store_->list_chats(me, {}));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->chats.size(), 1u);
}

// ChatWithMessages::version: what caches (db-api's rendered chats, the UI's If-None-Match) trust
// after get_chat_if_changed said "not modified". Every kind of write must change it.
TEST_P(ChatStoreContract, VersionChangesWithEveryWriteAndGetIfChangedSeesIt) {
  auto me = owner();
  auto chat = create(me, {.title = "versions"});
  auto version_of = [&]() -> int64_t {
    auto r = run(store_->get_chat(me, chat.id));
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->version : -1;
  };
  auto unchanged = [&](int64_t v) {
    auto r = run(store_->get_chat_if_changed(me, chat.id, v));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() && !r->has_value();
  };
  const int64_t v1 = version_of();
  EXPECT_GT(v1, 0);
  EXPECT_EQ(version_of(), v1);  // reading changes nothing
  EXPECT_TRUE(unchanged(v1));

  auto m = append(me, chat.id, "first");
  const int64_t v2 = version_of();
  EXPECT_NE(v2, v1);
  EXPECT_FALSE(unchanged(v1));
  auto changed = run(store_->get_chat_if_changed(me, chat.id, v1));
  ASSERT_TRUE(changed.ok() && changed->has_value());
  ASSERT_EQ((*changed)->messages.size(), 1u);
  EXPECT_EQ((*changed)->messages[0].content, "first");
  EXPECT_EQ((*changed)->version, v2);
  EXPECT_TRUE(unchanged(v2));

  store::MessagePatch patch;
  patch.content = "first, edited";
  ASSERT_TRUE(run(store_->update_message(me, chat.id, m.id, patch)).ok());
  const int64_t v3 = version_of();
  EXPECT_NE(v3, v2);
  EXPECT_FALSE(unchanged(v2));

  ASSERT_TRUE(run(store_->update_chat(me, chat.id, {.title = "renamed"})).ok());
  const int64_t v4 = version_of();
  EXPECT_NE(v4, v3);
  EXPECT_FALSE(unchanged(v3));
  auto renamed = run(store_->get_chat_if_changed(me, chat.id, v3));
  ASSERT_TRUE(renamed.ok() && renamed->has_value());
  EXPECT_EQ((*renamed)->chat.title, "renamed");
  EXPECT_EQ((*renamed)->messages.at(0).content, "first, edited");

  // 0: no known version, always the whole chat.
  auto whole = run(store_->get_chat_if_changed(me, chat.id, 0));
  ASSERT_TRUE(whole.ok() && whole->has_value());

  // Another owner learns nothing, not even "not modified".
  auto theirs = run(store_->get_chat_if_changed(owner(), chat.id, v4));
  ASSERT_FALSE(theirs.ok());
  EXPECT_EQ(theirs.error().code, ErrorCode::not_found);

  ASSERT_TRUE(run(store_->delete_chat(me, chat.id)).ok());
  auto gone = run(store_->get_chat_if_changed(me, chat.id, v4));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::not_found);
}

TEST_P(ChatStoreContract, ConcurrentWritersToOneChatLoseAndDuplicateNothing) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto me = owner();
  auto chat = create(me);
  constexpr int kWriters = 8, kPerWriter = 20;
  // Every message is posted twice at once with the same client key (a retry racing the original).
  auto writer = [&](int w) -> boost::asio::awaitable<int> {
    int created = 0;
    for (int i = 0; i < kPerWriter; ++i) {
      store::NewMessage m{store::Role::user, "w" + std::to_string(w) + "-" + std::to_string(i)};
      m.client_key = "k" + std::to_string(w) + "-" + std::to_string(i);
      auto [a, b] = co_await (store_->append_message(me, chat.id, m) && store_->append_message(me, chat.id, m));
      if (!a.ok() || !b.ok()) co_return -1000000;
      if (a->message.id != b->message.id) co_return -1000000;
      created += a->created + b->created;
    }
    co_return created;
  };
  std::vector<std::future<int>> futures;
  for (int w = 0; w < kWriters; ++w)
    futures.push_back(boost::asio::co_spawn(rt_.io(), writer(w), boost::asio::use_future));
  int created = 0;
  for (auto& f : futures) created += f.get();
  EXPECT_EQ(created, kWriters * kPerWriter);
  auto msgs = messages(me, chat.id);
  ASSERT_EQ(msgs.size(), static_cast<size_t>(kWriters * kPerWriter));
  std::set<std::string> contents, ids;
  for (size_t i = 0; i < msgs.size(); ++i) {
    contents.insert(msgs[i].content);
    ids.insert(msgs[i].id);
    if (i) {
      EXPECT_GT(msgs[i].number, msgs[i - 1].number);
    }
  }
  EXPECT_EQ(contents.size(), msgs.size());
  EXPECT_EQ(ids.size(), msgs.size());
  // Each writer's own messages are in the order it posted them.
  for (int w = 0; w < kWriters; ++w) {
    int next = 0;
    std::string prefix = "w" + std::to_string(w) + "-";
    for (const auto& m : msgs)
      if (m.content.rfind(prefix, 0) == 0) {
        EXPECT_EQ(m.content, prefix + std::to_string(next++));
      }
    EXPECT_EQ(next, kPerWriter);
  }
}

}  // namespace parley::test
