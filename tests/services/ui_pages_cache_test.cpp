// Pages keeps each chat's rendered message list by version and a hash of what it shows: a page must
// show the chat it was given, whether the version moved or a caller changed the messages in memory.
#include <gtest/gtest.h>

#include "services/ui/pages.hpp"

namespace parley::services::ui {
namespace {

store::Message message(int n, store::Role role, std::string content) {
  store::Message m;
  m.id = "msg_" + std::string(31, 'a') + std::to_string(n);
  m.number = n;
  m.chat_id = "chat_" + std::string(32, 'c');
  m.role = role;
  m.content = std::move(content);
  return m;
}

store::ChatWithMessages chat(int64_t version) {
  store::ChatWithMessages c;
  c.chat.id = std::string("chat_").append(32, 'c');
  c.chat.owner = std::string("web_").append(32, 'o');
  c.chat.title.assign(1, 't');
  c.messages = {message(1, store::Role::user, "question **one**"), message(2, store::Role::assistant, "answer one")};
  c.version = version;
  return c;
}

TEST(UiPagesCache, APageShowsTheChatItWasGiven) {
  Pages pages("model");
  auto c = chat(5);
  std::string first = pages.chat(c, "csrf-1", "");
  EXPECT_NE(first.find("<strong>one</strong>"), std::string::npos);
  EXPECT_EQ(pages.chat(c, "csrf-1", ""), first);  // from the kept list: the same page
  std::string other_csrf = pages.chat(c, "csrf-2", "");
  EXPECT_NE(other_csrf.find("csrf-2"), std::string::npos);

  // A newer version with another message.
  auto c6 = chat(6);
  c6.messages.push_back(message(3, store::Role::user, "question two"));
  EXPECT_NE(pages.chat(c6, "csrf-1", "").find("question two"), std::string::npos);

  // Same version, but a caller dropped the last reply (regenerate) or added a message in memory.
  auto dropped = chat(6);
  dropped.messages.pop_back();
  std::string page = pages.chat(dropped, "csrf-1", "");
  EXPECT_EQ(page.find("answer one"), std::string::npos);
  EXPECT_EQ(page.find("question two"), std::string::npos);
  auto edited = chat(6);
  edited.messages.back().content = "answer one, edited";
  edited.messages.back().status = store::MessageStatus::partial;
  page = pages.chat(edited, "csrf-1", "");
  EXPECT_NE(page.find("answer one, edited"), std::string::npos);
  EXPECT_NE(page.find("cut short"), std::string::npos);

  // Version 0 (unknown): rendered every time.
  auto unknown = chat(0);
  unknown.messages[0].content = "not kept";
  EXPECT_NE(pages.chat(unknown, "csrf-1", "").find("not kept"), std::string::npos);
  unknown.messages[0].content = "still not kept";
  EXPECT_NE(pages.chat(unknown, "csrf-1", "").find("still not kept"), std::string::npos);
}

}  // namespace
}  // namespace parley::services::ui
