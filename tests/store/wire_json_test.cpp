// The wire JSON: the direct writer (render_json, db-api's hot path) must produce the same document
// as the tree (to_json), for any content, and parse back to the same values.
#include "store/wire_json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "support/utf8_sampler.hpp"

namespace parley::store::wire {
namespace {

ChatWithMessages sample() {
  ChatWithMessages c;
  c.chat.id = "chat_" + std::string(32, 'a');
  c.chat.number = 7;
  c.chat.owner = "o\"wner\\";
  c.chat.username = "bob";
  c.chat.title = test::utf8_sampler();
  c.chat.system_prompt = std::string("ctl \x01\x1f\x7f end");
  c.chat.settings = boost::json::object{{"temperature", 0.7}, {"stop", boost::json::array{"\n"}}};
  c.chat.created_at = 1796409619123;
  c.chat.updated_at = 1796409619999;
  for (int i = 0; i < 3; ++i) {
    Message m;
    m.id = "msg_" + std::string(32, static_cast<char>('0' + i));
    m.number = 100 + i;
    m.chat_id = c.chat.id;
    m.role = i ? Role::assistant : Role::user;
    m.content = i == 1 ? test::utf8_sampler() : "plain";
    m.status = i == 2 ? MessageStatus::partial : MessageStatus::complete;
    m.created_at = 1796409619123 + i;
    m.prompt_tokens = i;
    m.completion_tokens = 2 * i;
    m.finish_reason = i ? "stop" : "";
    if (i) m.client_key = std::string("k").append(std::to_string(i));
    c.messages.push_back(m);
  }
  return c;
}

TEST(WireJson, DirectWriterMatchesTheTree) {
  auto c = sample();
  EXPECT_EQ(boost::json::parse(render_json(c)), boost::json::value(to_json(c)));
  EXPECT_EQ(boost::json::parse(render_json(c.chat)), boost::json::value(to_json(c.chat)));
  EXPECT_EQ(boost::json::parse(render_json(c.messages[1])), boost::json::value(to_json(c.messages[1])));
  ChatPage page{{c.chat, c.chat}, "n5"};
  EXPECT_EQ(boost::json::parse(render_json(page)), boost::json::value(to_json(page)));
  ChatPage last{{c.chat}, std::nullopt};
  EXPECT_EQ(boost::json::parse(render_json(last)), boost::json::value(to_json(last)));
}

TEST(WireJson, RendersAndParsesBackEveryField) {
  auto c = sample();
  auto back = parse_chat_with_messages(boost::json::parse(render_json(c)).as_object());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->chat.title, c.chat.title);
  EXPECT_EQ(back->chat.system_prompt, c.chat.system_prompt);
  EXPECT_EQ(back->chat.settings, c.chat.settings);
  EXPECT_EQ(back->chat.created_at, c.chat.created_at);
  EXPECT_EQ(back->chat.username, c.chat.username);
  ASSERT_EQ(back->messages.size(), 3u);
  EXPECT_EQ(back->messages[1].content, c.messages[1].content);
  EXPECT_EQ(back->messages[2].status, MessageStatus::partial);
  EXPECT_EQ(back->messages[1].client_key, c.messages[1].client_key);
  EXPECT_EQ(back->messages[0].client_key, std::nullopt);
}

TEST(WireJson, RequestParsingIsStrict) {
  auto ok = parse_new_message(boost::json::parse(R"({"role":"assistant","content":"x","status":"partial","prompt_tokens":3,"client_key":null})").as_object());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, MessageStatus::partial);
  EXPECT_FALSE(ok->client_key.has_value());
  for (const char* bad : {R"({"role":"user"})", R"({"content":"x"})", R"({"role":"user","content":"x","extra":1})",
                          R"({"role":"user","content":["x"]})", R"({"role":"user","content":"x","completion_tokens":1e3})"}) {
    auto r = parse_new_message(boost::json::parse(bad).as_object());
    EXPECT_FALSE(r.ok()) << bad;
  }
}

}  // namespace
}  // namespace parley::store::wire
