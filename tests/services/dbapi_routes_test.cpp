// Every db-api route over real HTTP, including each bad input of issue 2: a clear 4xx JSON error
// and nothing written.
#include <gtest/gtest.h>

#include "services/dbapi_fixture.hpp"

namespace parley::test {
namespace {

using net::Method;
namespace json = boost::json;

class DbApiRoutes : public testing::Test {
 protected:
  std::string create_chat(const std::string& owner = "alice", const std::string& body = R"({"title":"t"})") {
    auto r = api_.request(Method::post, "/v1/chats", body, owner);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(body_json(r).at("id").as_string());
  }
  size_t message_count(const std::string& chat_id, const std::string& owner = "alice") {
    auto r = api_.request(Method::get, "/v1/chats/" + chat_id, "", owner);
    EXPECT_EQ(r.status, 200) << r.body;
    return body_json(r).at("messages").as_array().size();
  }
  void expect_error(const net::ClientResponse& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(error_code(r), code) << r.body;
  }

  LiveDbApi api_;
};

TEST_F(DbApiRoutes, EveryV1RouteNeedsTheServiceToken) {
  std::string chat = create_chat();
  std::string mid = "msg_" + std::string(32, 'a');
  struct R { Method m; std::string path; };
  std::vector<R> routes = {{Method::post, "/v1/chats"},
                           {Method::get, "/v1/chats"},
                           {Method::get, "/v1/chats/" + chat},
                           {Method::patch, "/v1/chats/" + chat},
                           {Method::delete_, "/v1/chats/" + chat},
                           {Method::post, "/v1/chats/" + chat + "/messages"},
                           {Method::patch, "/v1/chats/" + chat + "/messages/" + mid},
                           {Method::post, "/v1/chat-versions"}};
  for (const auto& route : routes) {
    for (std::optional<std::string> token : {std::optional<std::string>(), std::optional<std::string>("wrong"),
                                             std::optional<std::string>(std::string(LiveDbApi::kToken) + "x"),
                                             std::optional<std::string>("")}) {
      auto r = api_.request(route.m, route.path, R"({"role":"user","content":"x"})", "alice", token);
      expect_error(r, 401, "unauthorized");
      EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");
    }
  }
  // Basic auth with the right secret is not a bearer token either.
  net::ClientRequest req{.method = Method::get, .url = api_.base_url() + "/v1/chats"};
  req.headers = {{"Authorization", std::string("Basic ") + LiveDbApi::kToken}, {"X-Parley-Owner", "alice"}};
  EXPECT_EQ(run_on(api_.loop().context(), api_.client().request(std::move(req))).status, 401);
  EXPECT_EQ(message_count(chat), 0u);  // the unauthorized posts wrote nothing
}

TEST_F(DbApiRoutes, OwnerHeaderIsRequiredAndValidated) {
  expect_error(api_.request(Method::get, "/v1/chats", "", std::nullopt), 400, "invalid_argument");
  expect_error(api_.request(Method::get, "/v1/chats", "", std::string(257, 'o')), 400, "invalid_argument");
  expect_error(api_.request(Method::post, "/v1/chats", "{}", std::nullopt), 400, "invalid_argument");
}

TEST_F(DbApiRoutes, CreateGetListPatchDelete) {
  auto created = api_.request(Method::post, "/v1/chats",
                              R"({"title":"Hello","system_prompt":"Be brief.","settings":{"temperature":0.2}})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto chat = body_json(created).as_object();
  std::string id(chat.at("id").as_string());
  EXPECT_EQ(chat.at("title"), "Hello");
  EXPECT_EQ(chat.at("owner"), "alice");
  EXPECT_EQ(chat.at("settings").at("temperature").as_double(), 0.2);

  auto got = api_.request(Method::get, "/v1/chats/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(body_json(got).at("system_prompt"), "Be brief.");
  EXPECT_TRUE(body_json(got).at("messages").as_array().empty());

  auto patched = api_.request(Method::patch, "/v1/chats/" + id, R"({"title":"Renamed"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(body_json(patched).at("title"), "Renamed");
  EXPECT_EQ(body_json(patched).at("system_prompt"), "Be brief.");

  for (int i = 0; i < 3; ++i) create_chat();
  auto page1 = api_.request(Method::get, "/v1/chats?limit=2");
  ASSERT_EQ(page1.status, 200);
  auto p1 = body_json(page1).as_object();
  ASSERT_EQ(p1.at("chats").as_array().size(), 2u);
  ASSERT_TRUE(p1.at("next_cursor").is_string());
  auto page2 = api_.request(Method::get, "/v1/chats?limit=2&cursor=" + std::string(p1.at("next_cursor").as_string()));
  auto p2 = body_json(page2).as_object();
  ASSERT_EQ(p2.at("chats").as_array().size(), 2u);
  EXPECT_TRUE(p2.at("next_cursor").is_null());
  EXPECT_EQ(p2.at("chats").as_array().back().at("id").as_string(), id);  // oldest last

  auto del = api_.request(Method::delete_, "/v1/chats/" + id);
  EXPECT_EQ(del.status, 204);
  expect_error(api_.request(Method::delete_, "/v1/chats/" + id), 404, "not_found");
  expect_error(api_.request(Method::get, "/v1/chats/" + id), 404, "not_found");
}

TEST_F(DbApiRoutes, AnotherOwnersChatAnswersExactlyLikeAMissingOne) {
  std::string id = create_chat("alice");
  std::string missing = "chat_" + std::string(32, 'f');
  for (Method m : {Method::get, Method::patch, Method::delete_}) {
    auto theirs = api_.request(m, "/v1/chats/" + id, R"({"title":"x"})", "mallory");
    auto none = api_.request(m, "/v1/chats/" + missing, R"({"title":"x"})", "mallory");
    EXPECT_EQ(theirs.status, 404);
    EXPECT_EQ(theirs.status, none.status);
    EXPECT_EQ(theirs.body, none.body);
  }
  auto post = api_.request(Method::post, "/v1/chats/" + id + "/messages", R"({"role":"user","content":"hi"})", "mallory");
  expect_error(post, 404, "not_found");
  EXPECT_EQ(message_count(id), 0u);
  auto list = api_.request(Method::get, "/v1/chats", "", "mallory");
  EXPECT_TRUE(body_json(list).at("chats").as_array().empty());
}

TEST_F(DbApiRoutes, MessagesPostIdempotentlyAndPatch) {
  std::string id = create_chat();
  const std::string body = R"({"role":"user","content":"héllo 👋","client_key":"k1"})";
  auto first = api_.request(Method::post, "/v1/chats/" + id + "/messages", body);
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = api_.request(Method::post, "/v1/chats/" + id + "/messages", body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(body_json(first).at("id"), body_json(again).at("id"));
  EXPECT_EQ(body_json(first).at("content"), "héllo 👋");
  EXPECT_EQ(message_count(id), 1u);

  auto reply = api_.request(Method::post, "/v1/chats/" + id + "/messages",
                            R"({"role":"assistant","content":"","status":"partial"})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  std::string mid(body_json(reply).at("id").as_string());
  auto fin = api_.request(Method::patch, "/v1/chats/" + id + "/messages/" + mid,
                          R"({"content":"Done.","status":"complete","prompt_tokens":10,"completion_tokens":2,"finish_reason":"stop"})");
  ASSERT_EQ(fin.status, 200) << fin.body;
  auto msg = body_json(fin).as_object();
  EXPECT_EQ(msg.at("status"), "complete");
  EXPECT_EQ(msg.at("completion_tokens").as_int64(), 2);
  EXPECT_EQ(msg.at("finish_reason"), "stop");
  auto chat = body_json(api_.request(Method::get, "/v1/chats/" + id)).as_object();
  ASSERT_EQ(chat.at("messages").as_array().size(), 2u);
  EXPECT_EQ(chat.at("messages").as_array()[1].at("content"), "Done.");
}

TEST_F(DbApiRoutes, BadInputIsA4xxJsonErrorAndWritesNothing) {
  std::string id = create_chat();
  const std::string post = "/v1/chats/" + id + "/messages";
  struct Case { std::string body; int status; std::string code; };
  std::vector<Case> cases = {
      {"{not json", 400, "invalid_argument"},
      {"[1,2]", 400, "invalid_argument"},
      {"\"text\"", 400, "invalid_argument"},
      {R"({"content":"no role"})", 400, "invalid_argument"},
      {R"({"role":"user"})", 400, "invalid_argument"},
      {R"({"role":"wizard","content":"x"})", 400, "invalid_argument"},
      {R"({"role":"user","content":""})", 400, "invalid_argument"},
      {R"({"role":"user","content":42})", 400, "invalid_argument"},
      {R"({"role":7,"content":"x"})", 400, "invalid_argument"},
      {R"({"role":"user","content":"x","status":"done"})", 400, "invalid_argument"},
      {R"({"role":"user","content":"x","prompt_tokens":"3"})", 400, "invalid_argument"},
      {R"({"role":"user","content":"x","prompt_tokens":1.5})", 400, "invalid_argument"},
      {R"({"role":"user","content":"x","prompt_tokens":-1})", 400, "invalid_argument"},
      {R"({"role":"user","content":"x","surprise":true})", 400, "invalid_argument"},
      {"{\"role\":\"user\",\"content\":\"bad \xff utf8\"}", 400, "invalid_argument"},
      {R"({"role":"user","content":"x","client_key":""})", 400, "invalid_argument"},
      {"{\"role\":\"user\",\"content\":\"" + std::string(256 * 1024 + 1, 'x') + "\"}", 413, "payload_too_large"},
  };
  for (const auto& c : cases) {
    auto r = api_.request(Method::post, post, c.body);
    expect_error(r, c.status, c.code);
    EXPECT_EQ(r.body.find("sqlite"), std::string::npos) << r.body;
  }
  // A body over the server's limit: 413 before any parsing.
  auto huge = api_.request(Method::post, post, std::string(3 * 1024 * 1024, ' '));
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(message_count(id), 0u);

  // Invalid ids in the path.
  expect_error(api_.request(Method::get, "/v1/chats/123"), 400, "invalid_argument");
  expect_error(api_.request(Method::get, "/v1/chats/chat_XYZ"), 400, "invalid_argument");
  expect_error(api_.request(Method::post, "/v1/chats/nope/messages", R"({"role":"user","content":"x"})"), 400,
               "invalid_argument");
  expect_error(api_.request(Method::patch, "/v1/chats/" + id + "/messages/msg_1", R"({"content":"x"})"), 400,
               "invalid_argument");
  expect_error(api_.request(Method::patch, "/v1/chats/" + id + "/messages/msg_" + std::string(32, 'b'),
                            R"({"content":"x"})"),
               404, "not_found");

  // Chat bodies.
  for (std::string body : {R"({"title":5})", R"({"settings":"hot"})", R"({"settings":[1]})", R"({"messages":{}})",
                           R"({"messages":[{"role":"user","content":""}]})", R"({"owner":"bob"})", "nope"}) {
    expect_error(api_.request(Method::post, "/v1/chats", body), 400, "invalid_argument");
    expect_error(api_.request(Method::patch, "/v1/chats/" + id, body), 400, "invalid_argument");
  }
  auto list = body_json(api_.request(Method::get, "/v1/chats")).as_object();
  EXPECT_EQ(list.at("chats").as_array().size(), 1u);
  EXPECT_EQ(list.at("chats").as_array()[0].at("title"), "t");

  // List parameters.
  for (std::string q : {"limit=0", "limit=101", "limit=abc", "limit=", "cursor=zzz", "number=-4"})
    expect_error(api_.request(Method::get, "/v1/chats?" + q), 400, "invalid_argument");
}

// POST /v1/chat-versions: each chat's version for its own owner, null for a missing chat, another
// owner's chat or an invalid id or owner; the version moves with every write; bad bodies are 400s.
TEST_F(DbApiRoutes, ChatVersionsAnswerEachChatForItsOwner) {
  std::string a = create_chat("alice"), b = create_chat("bob");
  auto versions = [&](const std::string& body) {
    auto r = api_.request(Method::post, "/v1/chat-versions", body, std::nullopt);
    EXPECT_EQ(r.status, 200) << r.body;
    return body_json(r).at("versions").as_array();
  };
  auto get_version = [&](const std::string& id, const std::string& owner) {
    auto r = api_.request(Method::get, "/v1/chats/" + id, "", owner);
    return std::stoll(std::string(r.header("ETag").substr(1)));
  };
  const std::string body = R"({"chats":[{"id":")" + a + R"(","owner":"alice"},{"id":")" + b +
                           R"(","owner":"alice"},{"id":")" + b + R"(","owner":"bob"},{"id":"chat_)" +
                           std::string(32, 'f') + R"(","owner":"alice"},{"id":"nope","owner":"alice"},{"id":")" +
                           a + R"(","owner":""}]})";
  auto v = versions(body);
  ASSERT_EQ(v.size(), 6u);
  EXPECT_EQ(v[0].as_int64(), get_version(a, "alice"));
  EXPECT_TRUE(v[1].is_null());  // bob's chat, asked as alice
  EXPECT_EQ(v[2].as_int64(), get_version(b, "bob"));
  EXPECT_TRUE(v[3].is_null());
  EXPECT_TRUE(v[4].is_null());
  EXPECT_TRUE(v[5].is_null());
  const int64_t before = v[0].as_int64();
  ASSERT_EQ(api_.request(Method::post, "/v1/chats/" + a + "/messages", R"({"role":"user","content":"x"})").status, 201);
  EXPECT_GT(versions(body)[0].as_int64(), before);
  EXPECT_EQ(versions(R"({"chats":[]})").size(), 0u);

  for (std::string bad : {std::string(R"({})"), std::string(R"({"chats":{}})"), std::string(R"({"chats":[1]})"),
                          std::string(R"({"chats":[{"id":"x"}]})"), std::string(R"({"chats":[{"id":1,"owner":"a"}]})"),
                          std::string("not json")}) {
    expect_error(api_.request(Method::post, "/v1/chat-versions", bad, std::nullopt), 400, "invalid_argument");
  }
  std::string many = R"({"chats":[)";
  for (size_t i = 0; i <= store::kMaxVersionChecks; ++i) many += std::string(i ? "," : "") + R"({"id":")" + a + R"(","owner":"alice"})";
  expect_error(api_.request(Method::post, "/v1/chat-versions", many + "]}", std::nullopt), 400, "invalid_argument");
}

TEST_F(DbApiRoutes, ReadyzAnswersWhenTheDatabaseDoes) {
  auto r = api_.request(Method::get, "/readyz", "", std::nullopt, std::nullopt);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(api_.request(Method::get, "/healthz", "", std::nullopt, std::nullopt).status, 200);
}

TEST_F(DbApiRoutes, CompatRoutesSpeakTheOriginalApi) {
  auto created = api_.request(Method::post, "/chats",
                              R"({"username":"bob","session_id":"s-1","messages":[{"role":"user","content":"hi"}]})",
                              std::nullopt, std::nullopt);
  ASSERT_EQ(created.status, 200) << created.body;
  auto chat = body_json(created).as_object();
  ASSERT_TRUE(chat.at("id").is_int64());
  int64_t id = chat.at("id").as_int64();
  EXPECT_EQ(chat.at("username"), "bob");
  EXPECT_EQ(chat.at("session_id"), "s-1");
  ASSERT_EQ(chat.at("messages").as_array().size(), 1u);
  auto first = chat.at("messages").as_array()[0].as_object();
  EXPECT_EQ(first.at("owner_id").as_int64(), id);
  EXPECT_EQ(first.at("content"), "hi");
  EXPECT_TRUE(first.at("id").is_int64());

  // The same username in the same session: 400 (as the original); in another session: fine.
  auto dup = api_.request(Method::post, "/chats", R"({"username":"bob","session_id":"s-1","messages":[]})",
                          std::nullopt, std::nullopt);
  EXPECT_EQ(dup.status, 400) << dup.body;
  EXPECT_EQ(api_.request(Method::post, "/chats", R"({"username":"bob","session_id":"s-2","messages":[]})",
                         std::nullopt, std::nullopt).status, 200);

  auto posted = api_.request(Method::post, "/chats/" + std::to_string(id) + "/message",
                             R"({"role":"assistant","content":"hello bob","session_id":"s-1"})", std::nullopt, std::nullopt);
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_EQ(body_json(posted).at("owner_id").as_int64(), id);
  EXPECT_EQ(body_json(posted).at("role"), "assistant");

  auto get = [&](const std::string& path, const std::string& session) {
    net::ClientRequest req{.method = Method::get, .url = api_.base_url() + path};
    if (!session.empty()) req.headers = {{"X-Session-ID", session}};
    return run_on(api_.loop().context(), api_.client().request(std::move(req)));
  };
  auto by_id = get("/chats/" + std::to_string(id), "s-1");
  ASSERT_EQ(by_id.status, 200) << by_id.body;
  EXPECT_EQ(body_json(by_id).at("messages").as_array().size(), 2u);
  auto by_name = get("/chats/username/bob", "s-1");
  ASSERT_EQ(by_name.status, 200);
  EXPECT_EQ(body_json(by_name).at("id").as_int64(), id);

  // Another session: 404 everywhere, and posting writes nothing (the original appended it).
  EXPECT_EQ(get("/chats/" + std::to_string(id), "s-9").status, 404);
  EXPECT_EQ(get("/chats/username/bob", "s-9").status, 404);
  auto foreign = api_.request(Method::post, "/chats/" + std::to_string(id) + "/message",
                              R"({"role":"user","content":"intruder","session_id":"s-9"})", std::nullopt, std::nullopt);
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(body_json(get("/chats/" + std::to_string(id), "s-1")).at("messages").as_array().size(), 2u);

  // Bad input.
  EXPECT_EQ(get("/chats/" + std::to_string(id), "").status, 400);
  EXPECT_EQ(get("/chats/abc", "s-1").status, 400);
  for (std::string body : {R"({"session_id":"s-1"})", R"({"username":"x"})", R"({"username":5,"session_id":"s"})",
                           R"({"username":"x","session_id":"s","messages":[{"role":"god","content":"x"}]})",
                           R"({"username":"x","session_id":"s","messages":[{"role":"user","content":""}]})"})
    EXPECT_EQ(api_.request(Method::post, "/chats", body, std::nullopt, std::nullopt).status, 400) << body;
  // Long content is normal content (the original lost anything over ~2.7 KB).
  std::string long_text(100 * 1024, 'L');
  auto long_post = api_.request(Method::post, "/chats/" + std::to_string(id) + "/message",
                                R"({"role":"user","content":")" + long_text + R"(","session_id":"s-1"})", std::nullopt,
                                std::nullopt);
  ASSERT_EQ(long_post.status, 200);
  EXPECT_EQ(body_json(long_post).at("content").as_string().size(), long_text.size());
}

}  // namespace
}  // namespace parley::test
