// The original app's database API (`--compat-routes`), so that its Python UI works against Parley
// unchanged. It took no token and trusted the private network; so do these routes, which is why
// they are off by default.
//
//   POST /chats                       {username, session_id, messages:[{role, content}]}
//                                     -> 200 chat; 400 when that username already has a chat in
//                                        that session
//   GET  /chats/{id}                  X-Session-ID -> 200 chat; 404 for a missing chat or another
//                                     session's
//   GET  /chats/username/{username}   X-Session-ID -> 200 chat; 404
//   POST /chats/{id}/message          {role, content, session_id} -> 200 message; 404 when the chat
//                                     is another session's (the original appended it anyway)
//   chat: {id, username, session_id, messages:[message]}
//   message: {id, owner_id, role, content, session_id}   (owner_id is the chat's id)
//
// Mapping onto the store: a session is an owner ("compat:" + session_id), so another session's
// chat is invisible as everywhere else; username is the chat's unique-per-owner username; the
// integer ids of the original are the store's chat and message numbers.
#include <boost/json.hpp>

#include <charconv>

#include "net/json.hpp"
#include "services/dbapi/dbapi_routes.hpp"
#include "store/validation.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace parley::services::dbapi {
namespace {

using net::Request;
using net::Response;

std::string compat_owner(std::string_view session_id) { return "compat:" + std::string(session_id); }

Status check_session(std::string_view session_id) {
  if (session_id.empty()) return make_error(ErrorCode::invalid_argument, "missing session id");
  if (session_id.size() > 200 || !store::is_valid_utf8(session_id))
    return make_error(ErrorCode::invalid_argument, "invalid session id");
  for (unsigned char c : session_id)
    if (c < 0x20 || c == 0x7f) return make_error(ErrorCode::invalid_argument, "invalid session id");
  return ok_status();
}

json::object compat_message(const store::Message& m, int64_t chat_number, std::string_view session_id) {
  return json::object{{"id", m.number},
                      {"owner_id", chat_number},
                      {"role", store::to_string(m.role)},
                      {"content", m.content},
                      {"session_id", session_id}};
}

json::object compat_chat(const store::ChatWithMessages& c, std::string_view session_id) {
  json::array messages;
  for (const auto& m : c.messages) messages.push_back(compat_message(m, c.chat.number, session_id));
  return json::object{{"id", c.chat.number},
                      {"username", c.chat.username.value_or("")},
                      {"session_id", session_id},
                      {"messages", std::move(messages)}};
}

std::optional<int64_t> parse_number(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}

// Finds the session's chat by number or username and returns it with its messages.
asio::awaitable<Result<store::ChatWithMessages>> find_chat(store::ChatStore& st, const std::string& owner,
                                                          store::ListChatsQuery query) {
  query.limit = 1;
  auto page = co_await st.list_chats(owner, std::move(query));
  if (!page) co_return page.error();
  if (page->chats.empty()) co_return make_error(ErrorCode::not_found, "chat not found");
  co_return co_await st.get_chat(owner, page->chats.front().id);
}

Result<std::string> string_field(const json::object& body, std::string_view name) {
  auto it = body.find(name);
  if (it == body.end() || it->value().is_null()) return make_error(ErrorCode::invalid_argument, "missing field \"" + std::string(name) + "\"");
  if (!it->value().is_string()) return make_error(ErrorCode::invalid_argument, std::string(name) + " must be a string");
  return std::string(it->value().get_string());
}

Result<store::NewMessage> compat_new_message(const json::object& m) {
  auto role = string_field(m, "role");
  if (!role) return role.error();
  auto content = string_field(m, "content");
  if (!content) return content.error();
  auto parsed = store::parse_role(role.value());
  if (!parsed) return make_error(ErrorCode::invalid_argument, "role must be one of system, user, assistant");
  store::NewMessage out;
  out.role = *parsed;
  out.content = std::move(content.value());
  return out;
}

}  // namespace

void add_compat_routes(net::Router& router, store::ChatStore& st) {
  store::ChatStore* store = &st;

  router.post("/chats", [store](Request& req) -> asio::awaitable<Response> {
    auto body = net::parse_json_object(req);
    if (!body) co_return Response::error(body.error());
    auto username = string_field(body.value(), "username");
    if (!username) co_return Response::error(username.error());
    auto session = string_field(body.value(), "session_id");
    if (!session) co_return Response::error(session.error());
    if (auto s = check_session(session.value()); !s) co_return Response::error(s.error());
    store::NewChat chat;
    chat.username = username.value();
    chat.title = username.value();
    if (auto it = body->find("messages"); it != body->end() && !it->value().is_null()) {
      if (!it->value().is_array()) co_return Response::error(ErrorCode::invalid_argument, "messages must be an array");
      for (const auto& v : it->value().get_array()) {
        if (!v.is_object()) co_return Response::error(ErrorCode::invalid_argument, "a message must be an object");
        auto m = compat_new_message(v.get_object());
        if (!m) co_return Response::error(m.error());
        chat.messages.push_back(std::move(m.value()));
      }
    }
    std::string owner = compat_owner(session.value());
    auto created = co_await store->create_chat(owner, std::move(chat));
    if (!created) {
      if (created.error().code == ErrorCode::conflict)
        co_return Response::error(ErrorCode::invalid_argument, "this username already has a chat in this session");
      co_return Response::error(created.error());
    }
    auto full = co_await store->get_chat(owner, created->id);
    if (!full) co_return Response::error(full.error());
    co_return net::json_response(200, compat_chat(full.value(), session.value()));
  });

  router.get("/chats/{id}", [store](Request& req) -> asio::awaitable<Response> {
    std::string session(req.header("X-Session-ID"));
    if (auto s = check_session(session); !s) co_return Response::error(ErrorCode::invalid_argument, "missing or invalid X-Session-ID header");
    auto number = parse_number(req.param("id"));
    if (!number) co_return Response::error(ErrorCode::invalid_argument, "chat id must be a positive integer");
    store::ListChatsQuery q;  // named: g++ 12 mishandles braced temporaries in co_await calls
    q.number = *number;
    auto chat = co_await find_chat(*store, compat_owner(session), q);
    if (!chat) co_return Response::error(chat.error());
    co_return net::json_response(200, compat_chat(chat.value(), session));
  });

  router.get("/chats/username/{username}", [store](Request& req) -> asio::awaitable<Response> {
    std::string session(req.header("X-Session-ID"));
    if (auto s = check_session(session); !s) co_return Response::error(ErrorCode::invalid_argument, "missing or invalid X-Session-ID header");
    std::string username(req.param("username"));
    store::ListChatsQuery q;
    q.username = username;
    auto chat = co_await find_chat(*store, compat_owner(session), q);
    if (!chat) co_return Response::error(chat.error());
    co_return net::json_response(200, compat_chat(chat.value(), session));
  });

  router.post("/chats/{id}/message", [store](Request& req) -> asio::awaitable<Response> {
    auto number = parse_number(req.param("id"));
    if (!number) co_return Response::error(ErrorCode::invalid_argument, "chat id must be a positive integer");
    auto body = net::parse_json_object(req);
    if (!body) co_return Response::error(body.error());
    auto session = string_field(body.value(), "session_id");
    if (!session) co_return Response::error(session.error());
    if (auto s = check_session(session.value()); !s) co_return Response::error(s.error());
    auto message = compat_new_message(body.value());
    if (!message) co_return Response::error(message.error());
    std::string owner = compat_owner(session.value());
    store::ListChatsQuery q;
    q.number = *number;
    auto page = co_await store->list_chats(owner, q);
    if (!page) co_return Response::error(page.error());
    if (page->chats.empty()) co_return Response::error(ErrorCode::not_found, "chat not found");
    auto r = co_await store->append_message(owner, page->chats.front().id, std::move(message.value()));
    if (!r) co_return Response::error(r.error());
    co_return net::json_response(200, compat_message(r->message, *number, session.value()));
  });
}

}  // namespace parley::services::dbapi
