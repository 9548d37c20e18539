// Internal to the UI (ui_service.cpp, ui_replies.cpp): the per-request context and the sink a
// reply streams into.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

#include "net/request.hpp"
#include "services/ui/forms.hpp"
#include "services/ui/session.hpp"
#include "services/ui/ui_service.hpp"

namespace parley::services::ui {

inline constexpr std::string_view kCookieName = "parley_session";

struct UiService::Context {
  net::Request& req;
  Session session;
  bool send_cookie = false;   // a fresh or re-sealed session: Set-Cookie on the response
  bool wants_stream = false;  // Accept: text/event-stream
  bool wants_json = false;    // Accept: application/json (fetch from the page script)
  Form form;
  std::string new_title;      // set when posting the first message renamed the chat

  std::string chat_id() const { return std::string(req.param("id")); }
  std::string chat_url() const { return "/chats/" + chat_id(); }
};

// Where a reply's text goes while it is generated: an SSE stream, or nowhere (the form post that
// waits for the whole reply). Methods return false when the client has gone.
class UiService::ReplySink {
 public:
  virtual ~ReplySink() = default;
  virtual boost::asio::awaitable<bool> piece(std::string_view text) = 0;
  virtual boost::asio::awaitable<bool> status(std::string_view message) = 0;
};

}  // namespace parley::services::ui
