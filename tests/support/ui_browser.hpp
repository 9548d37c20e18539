// UiBrowser: drives the web UI (`parley ui` or `parley serve`) as the browser's JavaScript does:
// a session cookie, the CSRF token from the page's forms, form posts, and the reply as SSE.
//
//   UiBrowser b(http, ui.base_url());
//   b.open();                                   // GET /: takes the cookie and the CSRF token
//   std::string chat = b.new_chat();            // POST /chats -> 303 /chats/ID
//   auto body = b.post_message_stream(chat, "Hello");   // POST /chats/ID/messages, Accept: text/event-stream
//   auto events = b.read_events(*body, until_event);    // "user", "piece", "status", "done", "error"
//   std::string owner = b.owner(session_key);   // the ChatStore owner, to check through db-api
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/sse.hpp"
#include "services/ui/session.hpp"
#include "support/service_process.hpp"

namespace parley::test {

class UiBrowser {
 public:
  UiBrowser(TestHttp& http, std::string base_url) : http_(http), base_(std::move(base_url)) {}

  // GET /; keeps the session cookie and the CSRF token. Returns the response.
  net::ClientResponse open() {
    auto r = get("/");
    if (r.status != 200)
      throw std::runtime_error("GET / answered " + std::to_string(r.status) + ": " + r.body);
    std::string key = "name=\"csrf\" value=\"";
    size_t p = r.body.find(key);
    if (p == std::string::npos) throw std::runtime_error("no CSRF token in the page");
    size_t start = p + key.size();
    csrf_ = r.body.substr(start, r.body.find('"', start) - start);
    return r;
  }

  net::ClientResponse get(const std::string& path) {
    net::ClientRequest r{.method = net::Method::get, .url = base_ + path};
    add_cookie(r);
    auto res = http_.request(std::move(r));
    take_cookie(res);
    return res;
  }

  // A form post (application/x-www-form-urlencoded) with the CSRF token added.
  net::ClientResponse post_form(const std::string& path, const std::string& fields,
                                const std::string& accept = "") {
    auto r = form_request(path, fields, accept);
    auto res = http_.request(std::move(r));
    take_cookie(res);
    return res;
  }

  // POST /chats; returns the new chat's id.
  std::string new_chat() {
    auto r = post_form("/chats", "");
    std::string location(r.header("Location"));
    if (r.status != 303 || location.rfind("/chats/", 0) != 0)
      throw std::runtime_error("POST /chats answered " + std::to_string(r.status) + ": " + r.body);
    return location.substr(7);
  }

  // POST /chats/ID/settings: greedy decoding (temperature 0) makes a reply's length deterministic.
  void set_temperature(const std::string& chat_id, const std::string& temperature) {
    auto r = post_form("/chats/" + chat_id + "/settings", "temperature=" + temperature + "&system_prompt=");
    if (r.status != 303)
      throw std::runtime_error("settings answered " + std::to_string(r.status) + ": " + r.body);
  }

  // POST /chats/ID/messages asking for the reply as SSE. The caller reads the body.
  std::unique_ptr<net::ResponseBody> post_message_stream(const std::string& chat_id,
                                                         const std::string& content) {
    auto r = form_request("/chats/" + chat_id + "/messages", "content=" + url_encode(content),
                          "text/event-stream");
    return http_.stream(std::move(r));
  }

  // Reads SSE events until `stop` returns true for one, the body ends, or the read fails (a
  // ClientError is caught: `failed` tells). Returns the events seen.
  std::vector<net::SseEvent> read_events(net::ResponseBody& body,
                                         const std::function<bool(const net::SseEvent&)>& stop,
                                         bool* failed = nullptr) {
    std::vector<net::SseEvent> events;
    net::SseParser parser;
    bool done = false;
    if (failed) *failed = false;
    try {
      while (!done) {
        auto piece = http_.read_some(body);
        if (!piece) break;
        parser.feed(*piece, [&](const net::SseEvent& e) {
          events.push_back(e);
          if (stop && stop(e)) done = true;
        });
      }
    } catch (const net::ClientError&) {
      if (failed) *failed = true;
    }
    return events;
  }

  // The ChatStore owner of this browser's session (unsealed with the UI's session key).
  std::string owner(const std::string& session_key) const {
    auto keys = services::ui::SessionKeys::parse(session_key);
    if (!keys) throw std::runtime_error("bad session key");
    services::ui::SessionSealer sealer(std::move(*keys));
    auto opened = sealer.unseal(cookie_, std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
    if (!opened) throw std::runtime_error("the session cookie does not open");
    return opened->session.owner;
  }

  const std::string& csrf() const { return csrf_; }
  const std::string& cookie() const { return cookie_; }

  static std::string url_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back('%');
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
      }
    }
    return out;
  }

 private:
  net::ClientRequest form_request(const std::string& path, const std::string& fields,
                                  const std::string& accept) {
    net::ClientRequest r{.method = net::Method::post, .url = base_ + path};
    r.body = "csrf=" + url_encode(csrf_) + (fields.empty() ? "" : "&" + fields);
    r.content_type = "application/x-www-form-urlencoded";
    if (!accept.empty()) r.header("Accept", accept);
    add_cookie(r);
    return r;
  }
  void add_cookie(net::ClientRequest& r) const {
    if (!cookie_.empty()) r.header("Cookie", "parley_session=" + cookie_);
  }
  void take_cookie(const net::ClientResponse& r) {
    std::string_view set = r.header("Set-Cookie");
    std::string_view key = "parley_session=";
    if (set.rfind(key, 0) != 0) return;
    set.remove_prefix(key.size());
    cookie_ = std::string(set.substr(0, set.find(';')));
  }

  TestHttp& http_;
  std::string base_;
  std::string cookie_;
  std::string csrf_;
};

}  // namespace parley::test
