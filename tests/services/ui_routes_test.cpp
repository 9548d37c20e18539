// Handler tests of the UI's pages and simple actions over a real SQLite store.
#include "ui_fixture.hpp"

#include "store/postgres/pg_chat_store.hpp"
#include "support/free_port.hpp"

namespace parley::test {
namespace {

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

TEST_F(UiFixture, HomeStartsASessionWithAHardenedCookieAndHeaders) {
  start();
  auto res = browser->page("/");
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(has(std::string(res.header("Content-Type")), "text/html"));
  EXPECT_TRUE(has(browser->last_set_cookie, "HttpOnly"));
  EXPECT_TRUE(has(browser->last_set_cookie, "SameSite=Lax"));
  EXPECT_TRUE(has(browser->last_set_cookie, "Path=/"));
  EXPECT_FALSE(has(browser->last_set_cookie, "Secure"));
  std::string csp(res.header("Content-Security-Policy"));
  EXPECT_TRUE(has(csp, "script-src 'self'"));
  EXPECT_TRUE(has(csp, "frame-ancestors 'none'"));
  EXPECT_FALSE(has(csp, "unsafe-inline"));
  EXPECT_EQ(res.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(res.header("Referrer-Policy"), "same-origin");
  EXPECT_FALSE(has(res.body, "<script>")) << "no inline script";
  EXPECT_FALSE(browser->csrf.empty());
  // A second request with the cookie: same session, no new cookie.
  browser->last_set_cookie.clear();
  EXPECT_EQ(browser->get("/").status, 200);
  EXPECT_TRUE(browser->last_set_cookie.empty());
}

TEST_F(UiFixture, CookieIsSecureBehindATlsProxy) {
  start();
  browser->extra_headers = {{"X-Forwarded-Proto", "https"}};
  browser->page("/");
  EXPECT_TRUE(has(browser->last_set_cookie, "; Secure"));
}

TEST_F(UiFixture, StateChangesNeedTheSessionsCsrfToken) {
  start();
  browser->page("/");
  EXPECT_EQ(browser->post("/chats", "", false).status, 403);
  EXPECT_EQ(browser->post("/chats", "csrf=wrong-token-wrong-token-wrong-token", false).status, 403);
  auto with_header = browser->send(Method::post, "/chats", "", {{"X-CSRF-Token", browser->csrf}});
  EXPECT_EQ(with_header.status, 303);
  auto ok = browser->post("/chats");
  EXPECT_EQ(ok.status, 303);
  EXPECT_TRUE(has(std::string(ok.header("Location")), "/chats/chat_"));
  // Another session's token does not work here.
  Browser other(loop, *client, server.get());
  other.page("/");
  std::string mine = browser->csrf;
  browser->csrf = other.csrf;
  EXPECT_EQ(browser->post("/chats").status, 403);
  browser->csrf = mine;
  // No cookie at all: 403 and a fresh session.
  Browser stranger(loop, *client, server.get());
  stranger.csrf = mine;
  EXPECT_EQ(stranger.post("/chats").status, 403);
  EXPECT_FALSE(stranger.cookie.empty());
}

TEST_F(UiFixture, ChatsAreListedNewestFirstAndOnlyForTheirSession) {
  start();
  std::string a = new_chat(*browser);
  std::string b = new_chat(*browser);
  auto home = browser->page("/");
  ASSERT_TRUE(has(home.body, a) && has(home.body, b));
  EXPECT_LT(home.body.find(b), home.body.find(a));
  Browser other(loop, *client, server.get());
  EXPECT_FALSE(has(other.page("/").body, a));
}

TEST_F(UiFixture, AnotherSessionsChatIsA404OnEveryRoute) {
  start();
  std::string id = new_chat(*browser);
  Browser other(loop, *client, server.get());
  other.page("/");
  EXPECT_EQ(other.get("/chats/" + id).status, 404);
  for (const char* action : {"messages", "regenerate", "stop", "rename", "settings", "delete"}) {
    auto res = other.post("/chats/" + id + "/" + action, "content=hi&title=x&temperature=1");
    EXPECT_EQ(res.status, 404) << action;
    EXPECT_FALSE(has(res.body, "Hello")) << action;
  }
  EXPECT_EQ(generator.calls.load(), 0);
  // Untouched for its owner.
  auto page = browser->page("/chats/" + id);
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(has(page.body, "New chat"));
  EXPECT_EQ(browser->get("/chats/not-an-id").status, 404);
  EXPECT_EQ(browser->get("/chats/chat_00000000000000000000000000000000").status, 404);
}

TEST_F(UiFixture, TamperedOrForeignCookieStartsAFreshSession) {
  start();
  std::string id = new_chat(*browser);
  std::string good = browser->cookie;
  for (std::string bad : {good.substr(0, good.size() - 3), std::string("x") + good.substr(1), std::string("garbage")}) {
    Browser b(loop, *client, server.get());
    b.cookie = bad;
    auto res = b.page("/");
    EXPECT_EQ(res.status, 200) << "never an error page";
    EXPECT_FALSE(has(res.body, id));
    EXPECT_NE(b.cookie, bad) << "a fresh session cookie";
    EXPECT_EQ(b.get("/chats/" + id).status, 404);
  }
  // A cookie sealed by a server with another key is foreign.
  UiServer foreign(loop, *store, generator, "another-secret-0123456789abcdef");
  Browser b(loop, *client, &foreign);
  b.cookie = good;
  EXPECT_FALSE(has(b.page("/").body, id));
}

TEST_F(UiFixture, KeyRotationKeepsSessionsAndReissuesCookies) {
  start();  // key: kSecret
  std::string id = new_chat(*browser);
  std::string old_cookie = browser->cookie;
  const std::string new_key = "rotated-secret-0123456789abcdef";
  UiServer rotated(loop, *store, generator, new_key + "," + kSecret);
  browser->use(&rotated);
  browser->last_set_cookie.clear();
  auto page = browser->page("/chats/" + id);
  EXPECT_EQ(page.status, 200) << "the old cookie still works during rotation";
  EXPECT_NE(browser->cookie, old_cookie) << "and it is re-sealed under the new key";
  UiServer retired(loop, *store, generator, new_key);
  browser->use(&retired);
  EXPECT_EQ(browser->page("/chats/" + id).status, 200) << "the re-sealed cookie works with the new key alone";
  Browser old(loop, *client, &retired);
  old.cookie = old_cookie;
  EXPECT_EQ(old.get("/chats/" + id).status, 404) << "the old key's cookie is foreign once retired";
}

TEST_F(UiFixture, RenameSettingsAndDelete) {
  start();
  std::string id = new_chat(*browser);
  auto r = browser->post("/chats/" + id + "/rename", "title=%3Cb%3EMy+plans%3C%2Fb%3E");
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(r.header("Location"), "/chats/" + id);
  auto page = browser->page("/chats/" + id);
  EXPECT_TRUE(has(page.body, "&lt;b&gt;My plans&lt;/b&gt;"));
  EXPECT_FALSE(has(page.body, "<b>My plans"));
  EXPECT_EQ(browser->post("/chats/" + id + "/rename", "title=+++").status, 400);
  EXPECT_EQ(browser->post("/chats/" + id + "/rename", "title=" + std::string(201, 'x')).status, 400);

  EXPECT_EQ(browser->post("/chats/" + id + "/settings", "system_prompt=Be+brief.&temperature=0.3").status, 303);
  page = browser->page("/chats/" + id);
  EXPECT_TRUE(has(page.body, ">Be brief.</textarea>"));
  EXPECT_TRUE(has(page.body, "value=\"0.3\""));
  EXPECT_EQ(browser->post("/chats/" + id + "/settings", "system_prompt=x&temperature=7").status, 400);
  EXPECT_EQ(browser->post("/chats/" + id + "/settings", "system_prompt=x&temperature=abc").status, 400);

  auto d = browser->post("/chats/" + id + "/delete");
  EXPECT_EQ(d.status, 303);
  EXPECT_EQ(d.header("Location"), "/");
  EXPECT_EQ(browser->get("/chats/" + id).status, 404);
  EXPECT_FALSE(has(browser->page("/").body, id));
}

TEST_F(UiFixture, StaticFilesAreServedWithTypesAndNothingElse) {
  start();
  auto css = browser->get("/static/app.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.header("X-Content-Type-Options"), "nosniff");
  auto js = browser->get("/static/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(browser->get("/static/nope.css").status, 404);
  EXPECT_EQ(browser->get("/static/../templates/chat.html").status, 404);
  EXPECT_EQ(browser->get("/static/%2e%2e/templates/chat.html").status, 404);
  EXPECT_EQ(browser->get("/static/templates/layout.html").status, 404);
  // The page links the versioned asset; that URL is cached for long.
  auto home = browser->page("/");
  auto pos = home.body.find("/static/app.css?v=");
  ASSERT_NE(pos, std::string::npos);
  std::string versioned = home.body.substr(pos, home.body.find('"', pos) - pos);
  EXPECT_TRUE(has(std::string(browser->get(versioned).header("Cache-Control")), "immutable"));
}

TEST_F(UiFixture, DatabaseDownIsAClearMessageNotA500) {
  // A PostgreSQL store pointed at a port where nothing listens: every call is `unavailable`.
  store::postgres::PostgresOptions pg{
      .conninfo = "host=127.0.0.1 port=" + std::to_string(free_port()) + " user=x dbname=x",
      .pool_size = 1,
      .connect_timeout = std::chrono::milliseconds(500)};
  store::postgres::PostgresChatStore down(loop.context().get_executor(), pg);
  UiServer ui(loop, down, generator, kSecret);
  start();  // a healthy replica with the same key hands out the session and its CSRF token
  Browser b(loop, *client, server.get());
  b.page("/");
  b.use(&ui);
  auto home = b.get("/");
  EXPECT_EQ(home.status, 503);
  EXPECT_TRUE(has(home.body, "not reachable")) << home.body;
  EXPECT_TRUE(has(home.body, "<html")) << "a page, not a JSON error";
  auto post = b.post("/chats/chat_00000000000000000000000000000000/messages", "content=hi");
  EXPECT_EQ(post.status, 503);
  EXPECT_TRUE(has(post.body, "your message was not sent"));
  EXPECT_EQ(b.post("/chats").status, 503);
  EXPECT_EQ(b.get("/readyz").status, 503);
  EXPECT_EQ(generator.calls.load(), 0);
}

}  // namespace
}  // namespace parley::test
