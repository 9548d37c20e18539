// The UI's security claims (issue 8), over the routes the UI really registers: another session's chat
// is a 404 on every route in every mode (page, JSON, SSE stream); every state change needs this
// session's CSRF token; a tampered, truncated, expired, foreign or retired-key cookie is a fresh
// session and never access; static files cannot be reached outside the embedded set; hostile text in
// titles, system prompts, messages and model replies is escaped in every HTML the server sends.
#include <atomic>
#include <future>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include "ui_fixture.hpp"

namespace parley::test {
namespace {

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

bool eventually(const std::function<bool()>& cond, int ms = 30000) {
  for (int i = 0; i < ms / 5; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

enum class Mode { form, json, stream };
const char* mode_name(Mode m) { return m == Mode::form ? "form" : m == Mode::json ? "json" : "stream"; }

struct Route {
  Method method;
  std::string pattern;
};

class UiSecurity : public UiFixture {
 protected:
  // The UI's routes, as registered (a route added later is covered here without editing this file).
  std::vector<Route> routes() {
    ui::UiService probe(*store, generator, make_sealer(kSecret));
    net::Router router;
    probe.add_routes(router);
    std::vector<Route> out;
    for (const auto& r : router.routes()) out.push_back({r->method, r->pattern});
    return out;
  }
  static std::string fill(const std::string& pattern, const std::string& id) {
    std::string path = pattern;
    if (auto pos = path.find("{id}"); pos != std::string::npos) path.replace(pos, 4, id);
    return path;
  }
  // One request of `b` in `mode`; for POSTs the form carries every field any action reads.
  ClientResponse call(Browser& b, const Route& r, const std::string& path, Mode mode, bool with_csrf = true) {
    std::string form = "content=pwned&title=pwned&system_prompt=pwned&temperature=1";
    if (with_csrf) form = "csrf=" + net::percent_encode(b.csrf) + "&" + form;
    net::Headers headers;
    if (mode == Mode::json) headers.push_back({"Accept", "application/json"});
    if (mode == Mode::stream) headers.push_back({"Accept", "text/event-stream"});
    return b.send(r.method, path, r.method == Method::post ? form : "", std::move(headers));
  }
  ui::Session session_of(const Browser& b) {
    auto opened = make_sealer(kSecret).unseal(b.cookie, std::time(nullptr));
    EXPECT_TRUE(opened);
    return opened ? opened->session : ui::Session{};
  }
  // A chat of `b` with a title, system prompt, settings and two messages.
  std::string populated_chat(Browser& b) {
    std::string id = new_chat(b);
    EXPECT_EQ(b.post("/chats/" + id + "/rename", "title=Owner+title").status, 303);
    EXPECT_EQ(b.post("/chats/" + id + "/settings", "system_prompt=Owner+prompt&temperature=0.5").status, 303);
    EXPECT_EQ(b.post("/chats/" + id + "/messages", "content=Owner+message").status, 303);
    return id;
  }
  void expect_untouched(Browser& owner, const std::string& id) {
    auto chat = run(store->get_chat(session_of(owner).owner, id));
    ASSERT_TRUE(chat.ok()) << "the owner's chat still exists";
    EXPECT_EQ(chat->chat.title, "Owner title");
    EXPECT_EQ(chat->chat.system_prompt, "Owner prompt");
    ASSERT_EQ(chat->messages.size(), 2u);
    EXPECT_EQ(chat->messages[0].content, "Owner message");
    EXPECT_EQ(chat->messages[1].content, "Hello, **world**!");
  }
};

TEST_F(UiSecurity, AnotherSessionsChatIs404OnEveryRouteInEveryMode) {
  start();
  std::string id = populated_chat(*browser);
  int calls = generator.calls.load();
  Browser other(loop, *client, server.get());
  other.page("/");
  std::set<std::string> without_id;
  int checked = 0;
  for (const Route& r : routes()) {
    if (!has(r.pattern, "{id}")) {
      without_id.insert(r.pattern);
      continue;
    }
    for (Mode mode : {Mode::form, Mode::json, Mode::stream}) {
      auto res = call(other, r, fill(r.pattern, id), mode);
      EXPECT_EQ(res.status, 404) << method_name(r.method) << " " << r.pattern << " (" << mode_name(mode) << "): "
                                 << res.body.substr(0, 300);
      EXPECT_FALSE(has(res.body, "Owner")) << r.pattern << " leaks the owner's data";
      EXPECT_FALSE(has(std::string(res.header("Content-Type")), "event-stream")) << "no stream was opened";
      ++checked;
    }
    // The SSE client path as the page script uses it.
    if (r.method == Method::post) {
      auto s = other.post_stream(fill(r.pattern, id), "content=pwned&title=pwned");
      EXPECT_EQ(s.status, 404) << r.pattern << " (page-script stream)";
      EXPECT_TRUE(s.events.empty());
    }
  }
  EXPECT_GE(checked, 7 * 3);
  EXPECT_EQ(without_id, (std::set<std::string>{"/", "/chats", "/static/{path*}"}))
      << "a new route without a chat id: decide what it exposes and test it here";
  EXPECT_EQ(generator.calls.load(), calls) << "nothing was generated for the intruder";
  expect_untouched(*browser, id);
  EXPECT_FALSE(has(other.page("/").body, id)) << "not listed for the intruder";
}

TEST_F(UiSecurity, AnotherSessionCannotStopARunningReply) {
  generator.script.pieces = std::vector<std::string>(300, "y");  // >= 3 s
  generator.script.delay = std::chrono::milliseconds(10);
  start();
  std::string id = new_chat(*browser);
  Browser other(loop, *client, server.get());
  other.page("/");
  std::atomic<bool> streaming{false};
  auto fut = std::async(std::launch::async, [&] {
    return browser->post_stream("/chats/" + id + "/messages", "content=go", [&](const net::SseEvent& e) {
      if (e.event == "piece") streaming = true;
      return true;
    });
  });
  ASSERT_TRUE(eventually([&] { return streaming.load(); }));
  EXPECT_EQ(other.post("/chats/" + id + "/stop").status, 404);
  EXPECT_EQ(other.send(Method::post, "/chats/" + id + "/stop", "csrf=" + net::percent_encode(other.csrf),
                       {{"Accept", "application/json"}}).status, 404);
  EXPECT_EQ(other.post("/chats/" + id + "/delete").status, 404);
  EXPECT_EQ(other.get("/chats/" + id).status, 404) << "not even while it is being written";
  SseResult r = fut.get();
  ASSERT_NE(r.find("done"), nullptr) << "the owner's reply ran to its end";
  size_t pieces = 0;
  for (const auto& e : r.events) pieces += e.event == "piece";
  EXPECT_EQ(pieces, 300u);
  EXPECT_EQ(generator.cancelled.load(), 0);
}

TEST_F(UiSecurity, EveryStateChangeNeedsThisSessionsCsrfToken) {
  start();
  std::string id = populated_chat(*browser);
  int calls = generator.calls.load();
  Browser other(loop, *client, server.get());
  other.page("/");
  const std::string mine = browser->csrf;
  int checked = 0;
  for (const Route& r : routes()) {
    if (r.method != Method::post) continue;
    std::string path = fill(r.pattern, id);
    for (Mode mode : {Mode::form, Mode::json, Mode::stream}) {
      EXPECT_EQ(call(*browser, r, path, mode, /*with_csrf=*/false).status, 403) << r.pattern << " without a token";
      browser->csrf = other.csrf;
      EXPECT_EQ(call(*browser, r, path, mode).status, 403) << r.pattern << " with another session's token";
      browser->csrf = mine + "x";
      EXPECT_EQ(call(*browser, r, path, mode).status, 403) << r.pattern << " with a wrong token";
      browser->csrf = mine;
      EXPECT_EQ(call(*browser, r, path + "?csrf=" + net::percent_encode(mine), mode, false).status, 403)
          << r.pattern << ": a token in the URL does not count (URLs leak into logs and Referer)";
      ++checked;
    }
  }
  EXPECT_GE(checked, 7 * 3);
  EXPECT_EQ(generator.calls.load(), calls);
  expect_untouched(*browser, id);
  auto home = browser->page("/");
  size_t chats = 0;
  for (size_t pos = 0; (pos = home.body.find("href=\"/chats/chat_", pos)) != std::string::npos; ++pos) ++chats;
  EXPECT_EQ(chats, 1u) << "no chat was created without a token";
}

TEST_F(UiSecurity, BadCookiesAreAFreshSessionAndNeverAccess) {
  int64_t now_s = std::time(nullptr);
  const std::string new_key = "rotated-secret-0123456789abcdef";
  start(ui::UiOptions{.clock_s = [&] { return now_s; }});
  std::string id = populated_chat(*browser);
  const std::string good = browser->cookie;
  const std::string csrf = browser->csrf;

  // A server that has rotated to a new key and retired kSecret: the old cookie is replayed there.
  UiServer retired(loop, *store, generator, new_key, ui::UiOptions{.clock_s = [&] { return now_s; }});
  std::string flipped = good;
  flipped[good.size() / 2] = flipped[good.size() / 2] == 'A' ? 'B' : 'A';
  struct Case {
    std::string name;
    std::string cookie_header;  // the whole Cookie header
    const UiServer* at;
  };
  std::vector<Case> cases = {
      {"tampered", "parley_session=" + flipped, server.get()},
      {"truncated", "parley_session=" + good.substr(0, good.size() - 1), server.get()},
      {"truncated to the nonce", "parley_session=" + good.substr(0, 32), server.get()},
      {"extended", "parley_session=" + good + "AAAA", server.get()},
      {"empty", "parley_session=", server.get()},
      {"garbage", "parley_session=../../etc/passwd", server.get()},
      {"huge", "parley_session=" + std::string(4000, 'A'), server.get()},
      {"replayed after rotation", "parley_session=" + good, &retired},
      {"forged first, real second", "parley_session=" + flipped + "; parley_session=" + good, server.get()},
      {"under another name", "parley_sessionx=" + good + "; session=" + good, server.get()},
  };
  for (const Case& c : cases) {
    net::ClientRequest get{.method = Method::get, .url = c.at->url("/chats/" + id)};
    get.headers = {{"Cookie", c.cookie_header}};
    auto page = net::run_blocking(loop, client->request(std::move(get)));
    EXPECT_EQ(page.status, 404) << c.name;
    EXPECT_FALSE(has(page.body, "Owner")) << c.name;
    EXPECT_FALSE(page.header("Set-Cookie").empty()) << c.name << ": a fresh session cookie";
    net::ClientRequest home{.method = Method::get, .url = c.at->url("/")};
    home.headers = {{"Cookie", c.cookie_header}};
    auto list = net::run_blocking(loop, client->request(std::move(home)));
    EXPECT_EQ(list.status, 200) << c.name << ": never an error page";
    EXPECT_FALSE(has(list.body, id)) << c.name;
    // With the real session's CSRF token, a state change is still refused.
    for (const std::string action : {"rename", "delete", "messages"}) {
      net::ClientRequest post{.method = Method::post, .url = c.at->url("/chats/" + id + "/" + action),
                              .body = "csrf=" + net::percent_encode(csrf) + "&title=pwned&content=pwned",
                              .content_type = "application/x-www-form-urlencoded"};
      post.headers = {{"Cookie", c.cookie_header}};
      EXPECT_EQ(net::run_blocking(loop, client->request(std::move(post))).status, 403) << c.name << " " << action;
    }
  }
  // Expired: not re-issued for longer than the idle limit (30 days).
  now_s += 31LL * 24 * 3600;
  Browser late(loop, *client, server.get());
  late.cookie = good;
  EXPECT_EQ(late.get("/chats/" + id).status, 404) << "expired";
  EXPECT_NE(late.cookie, good) << "and replaced by a fresh session";
  // Issued in the future (a clock-skew forgery needs the key anyway; far future is refused).
  now_s -= 62LL * 24 * 3600;
  Browser early(loop, *client, server.get());
  early.cookie = good;
  EXPECT_EQ(early.get("/chats/" + id).status, 404) << "issued in the future";
  now_s += 31LL * 24 * 3600;
  expect_untouched(*browser, id);
  EXPECT_EQ(browser->get("/chats/" + id).status, 200) << "the real cookie still works";
}

TEST_F(UiSecurity, StaticPathTraversalIs404) {
  start();
  // Raw bytes on a socket: no client library normalizes or refuses the path first.
  auto raw_get = [&](const std::string& path) {
    boost::asio::ip::tcp::iostream s("127.0.0.1", std::to_string(server->port));
    s << "GET " << path << " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" << std::flush;
    std::string response((std::istreambuf_iterator<char>(s)), std::istreambuf_iterator<char>());
    struct { int status; std::string body; } out{0, response};
    if (response.size() > 12) out.status = std::atoi(response.substr(9, 3).c_str());
    return out;
  };
  for (const std::string& path : std::vector<std::string>{
        "/static/../../etc/passwd", "/static/../../../../../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/static/..%2f..%2fetc%2fpasswd", "/static/%252e%252e%252fetc%252fpasswd",
        "/static/..\\..\\etc\\passwd", "/static/..%5c..%5cetc%5cpasswd", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
        "/static/./app.css/../../templates/layout.html", "/static/app.css%00.html", "/static/app.css/",
        "/static/templates/chat.html", "/static/../templates/chat.html", "/static/%2e%2e/templates/chat.html",
        "/static/" + std::string(3000, 'a'), "/static/.%2e/.%2e/etc/passwd", "/static/%c0%ae%c0%ae/etc/passwd",
        "/static/APP.CSS", "/static/app.css.map", "/static/"}) {
    auto res = raw_get(path);
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_FALSE(has(res.body, "root:")) << path;
    EXPECT_FALSE(has(res.body, "{{")) << path << " serves a template";
  }
  EXPECT_EQ(raw_get("/static/app.css").status, 200) << "the real asset still is served";
}

// The payloads of the browser test (tests/e2e/ui.e2e.mjs), checked here in the HTML itself.
const std::vector<std::string>& xss_payloads() {
  static const std::vector<std::string> p = {
      "<img src=x onerror=window.__xss=1>",
      "<script>window.__xss=1</script>",
      "\"><svg onload=window.__xss=1>",
      "'><iframe src=javascript:window.__xss=1>",
      "[link](javascript:window.__xss=1)",
      "[link](JaVaScRiPt:window.__xss=1)",
      "[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)",
      "<a href=\"javascript:window.__xss=1\">x</a>",
      "![img](x\" onerror=\"window.__xss=1)",
      "</textarea><script>window.__xss=1</script>",
      "</title><script>window.__xss=1</script>",
      "{{csrf}} {{{notice}}}",
  };
  return p;
}

// No markup from `html` may come from a payload: no element or attribute a payload names, no
// javascript:/data: URL in an href or src.
void expect_inert(const std::string& html, const std::string& where) {
  // (Escaped, a payload's text stays: "&lt;img src=x onerror=..." is inert. Markup is what counts.)
  for (const char* bad : {"<img", "<svg", "<iframe", "<script>window", "<a href=\"javascript", "\" onerror",
                          "href=\"javascript", "href=\"JaVaScRiPt", "href=\"data:", "src=\"javascript", "src=\"x"}) {
    EXPECT_FALSE(has(html, bad)) << where << " contains " << bad;
  }
}

TEST_F(UiSecurity, HostileTextIsEscapedInEveryPageAndEvent) {
  // The model replies with the payloads too.
  generator.script.pieces.clear();
  for (const auto& p : xss_payloads()) generator.script.pieces.push_back(p + "\n\n");
  start();
  std::string id = new_chat(*browser);
  std::string all;
  for (const auto& p : xss_payloads()) all += p + "\n\n";
  // Title, system prompt and a message carry every payload.
  std::string title = xss_payloads()[0] + xss_payloads()[2] + xss_payloads()[10];
  EXPECT_EQ(browser->post("/chats/" + id + "/rename", "title=" + net::percent_encode(title)).status, 303);
  EXPECT_EQ(browser->post("/chats/" + id + "/settings", "system_prompt=" + net::percent_encode(all)).status, 303);
  SseResult s = browser->post_stream("/chats/" + id + "/messages", "content=" + net::percent_encode(all));
  ASSERT_EQ(s.status, 200);
  const net::SseEvent* user = s.find("user");
  const net::SseEvent* done = s.find("done");
  ASSERT_TRUE(user && done);
  expect_inert(std::string(boost::json::parse(user->data).at("html").as_string()), "the SSE user event");
  expect_inert(std::string(boost::json::parse(done->data).at("html").as_string()), "the SSE done event");
  std::string streamed;
  for (const auto& e : s.events)
    if (e.event == "piece") streamed += boost::json::parse(e.data).as_string();
  EXPECT_EQ(streamed, all) << "pieces are JSON strings (the page sets them with textContent)";
  // Without JavaScript, too.
  EXPECT_EQ(browser->post("/chats/" + id + "/regenerate").status, 303);

  auto page = browser->page("/chats/" + id);
  ASSERT_EQ(page.status, 200);
  expect_inert(page.body, "the chat page");
  EXPECT_TRUE(has(page.body, "&lt;script&gt;window.__xss=1&lt;/script&gt;")) << "shown as text";
  EXPECT_FALSE(has(page.body, "</textarea><script")) << "the system prompt cannot close its textarea";
  EXPECT_FALSE(has(page.body, "</title><script")) << "the title cannot close <title>";
  EXPECT_TRUE(has(page.body, "{{csrf}}")) << "template syntax in user text is not expanded";
  auto home = browser->page("/");
  expect_inert(home.body, "the home page");
  EXPECT_TRUE(has(home.body, "&lt;img src=x onerror=window.__xss=1&gt;"));
  // Every response has a CSP that forbids inline script.
  for (const auto* res : {&page, &home}) {
    std::string csp(res->header("Content-Security-Policy"));
    EXPECT_TRUE(has(csp, "script-src 'self'")) << csp;
    EXPECT_FALSE(has(csp, "unsafe-inline")) << csp;
    EXPECT_FALSE(has(csp, "unsafe-eval")) << csp;
    EXPECT_TRUE(has(csp, "default-src 'none'")) << csp;
  }
}

}  // namespace
}  // namespace parley::test
