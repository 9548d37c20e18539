#include "store/dbapi_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>

#include "net/client.hpp"
#include "store/version_batch.hpp"
#include "store/wire_json.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace parley::store {
namespace {

ErrorCode code_from_name(std::string_view name, int status) {
  if (name == "invalid_argument") return ErrorCode::invalid_argument;
  if (name == "not_found") return ErrorCode::not_found;
  if (name == "conflict") return ErrorCode::conflict;
  if (name == "payload_too_large") return ErrorCode::payload_too_large;
  if (name == "unauthorized") return ErrorCode::unauthorized;
  if (name == "forbidden") return ErrorCode::forbidden;
  if (name == "rate_limited") return ErrorCode::rate_limited;
  if (name == "unavailable") return ErrorCode::unavailable;
  switch (status) {
    case 400: return ErrorCode::invalid_argument;
    case 401: return ErrorCode::unauthorized;
    case 403: return ErrorCode::forbidden;
    case 404: return ErrorCode::not_found;
    case 409: return ErrorCode::conflict;
    case 413: return ErrorCode::payload_too_large;
    case 429: return ErrorCode::rate_limited;
    case 502:
    case 503:
    case 504: return ErrorCode::unavailable;
    default: return ErrorCode::internal;
  }
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The body of POST /v1/chat-versions.
std::string version_checks_body(const std::vector<ChatRef>& refs) {
  json::array chats;
  chats.reserve(refs.size());
  for (const ChatRef& r : refs) chats.push_back(json::object{{"id", r.chat_id}, {"owner", r.owner}});
  return json::serialize(json::object{{"chats", std::move(chats)}});
}

}  // namespace

// A decoded response: a JSON object body on 2xx, or the error it carried.
struct DbApiChatStore::Reply {
  int status = 0;  // 304: not modified (If-None-Match), no body
  std::optional<Error> error;
  json::object body;
};

DbApiChatStore::DbApiChatStore(net::HttpClient& client, DbApiClientOptions options)
    : ChatStore(options.limits), client_(client), options_(std::move(options)), chats_(options_.cache_bytes) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
  auto query = [this](std::vector<ChatRef> checks) -> asio::awaitable<Result<VersionBatcher::Versions>> {
    auto versions = co_await do_chat_versions(checks);
    if (!versions) co_return versions.error();
    VersionBatcher::Versions out;
    for (size_t i = 0; i < checks.size(); ++i)
      if ((*versions)[i]) out[checks[i].chat_id] = {checks[i].owner, *(*versions)[i]};
    co_return out;
  };
  versions_ = std::make_shared<VersionBatcher>(client_.executor(), std::move(query), kMaxVersionChecks);
}

DbApiChatStore::~DbApiChatStore() = default;

std::pair<int64_t, int64_t> DbApiChatStore::version_checks() const {
  return {versions_->queries(), versions_->checks()};
}

asio::awaitable<DbApiChatStore::Reply> DbApiChatStore::call(int method, std::string path, const std::string& owner,
                                                           std::string body, bool idempotent,
                                                           int64_t if_none_match) {
  net::ClientRequest req;
  req.method = static_cast<net::Method>(method);
  req.url = options_.base_url + path;
  req.headers.push_back({"Authorization", "Bearer " + options_.service_token});
  if (!owner.empty()) req.headers.push_back({"X-Parley-Owner", owner});
  if (if_none_match > 0) {
    std::string etag(1, '"');
    etag.append(std::to_string(if_none_match)).push_back('"');
    req.headers.push_back({"If-None-Match", std::move(etag)});
  }
  if (!body.empty()) {
    req.body = std::move(body);
    req.content_type = "application/json";
  }
  req.idempotent = idempotent;
  Reply reply;
  net::ClientResponse res;
  try {
    res = co_await client_.request(std::move(req));
  } catch (const net::ClientError& e) {
    reply.error = make_error(ErrorCode::unavailable, "db-api unavailable");
    co_return reply;
  }
  reply.status = res.status;
  if (res.status == 304 && if_none_match > 0) co_return reply;
  json::value parsed;
  if (!res.body.empty()) {
    boost::system::error_code ec;
    parsed = json::parse(res.body, ec);
    if (ec) parsed = nullptr;
  }
  if (res.status >= 200 && res.status < 300) {
    if (res.status != 204) {
      if (!parsed.is_object()) {
        reply.error = make_error(ErrorCode::internal, "db-api answered with malformed JSON");
      } else {
        reply.body = std::move(parsed.get_object());
      }
    }
    co_return reply;
  }
  std::string message = "db-api answered " + std::to_string(res.status);
  std::string code_name;
  if (parsed.is_object()) {
    if (auto* err = parsed.get_object().if_contains("error"); err && err->is_object()) {
      if (auto* m = err->get_object().if_contains("message"); m && m->is_string()) message = m->get_string();
      if (auto* c = err->get_object().if_contains("code"); c && c->is_string()) code_name = c->get_string();
    }
  }
  reply.error = make_error(code_from_name(code_name, res.status), message);
  co_return reply;
}

ChatStore::Async<Unit> DbApiChatStore::check_ready() {
  Reply r = co_await call(static_cast<int>(net::Method::get), "/readyz", "", "", true);
  if (r.error) co_return make_error(ErrorCode::unavailable, r.error->message);
  co_return Unit{};
}

ChatStore::Async<Chat> DbApiChatStore::do_create_chat(const std::string& owner, NewChat chat) {
  std::string body = json::serialize(wire::to_json(chat));
  Reply r = co_await call(static_cast<int>(net::Method::post), "/v1/chats", owner, std::move(body), false);
  if (r.error) co_return *r.error;
  co_return wire::parse_chat(r.body);
}

ChatStore::Async<ChatPage> DbApiChatStore::do_list_chats(const std::string& owner, ListChatsQuery q) {
  std::string path = "/v1/chats?limit=" + std::to_string(q.limit);
  if (q.cursor) path += "&cursor=" + percent_encode(*q.cursor);
  if (q.number) path += "&number=" + std::to_string(*q.number);
  if (q.username) path += "&username=" + percent_encode(*q.username);
  Reply r = co_await call(static_cast<int>(net::Method::get), std::move(path), owner, "", true);
  if (r.error) co_return *r.error;
  co_return wire::parse_chat_page(r.body);
}

ChatStore::Async<ChatWithMessages> DbApiChatStore::do_get_chat(const std::string& owner, const std::string& chat_id) {
  std::optional<VersionedCache<ChatWithMessages>::Hit> hit;
  if (chats_.max_cost() > 0) hit = chats_.find(chat_id, owner);
  if (hit && !no_versions_route_.load(std::memory_order_relaxed)) {
    auto v = co_await versions_->version(chat_id, owner);
    if (v && *v && **v == hit->version) co_return ChatWithMessages(*hit->value);
    if (!v && v.error().code == ErrorCode::not_found) no_versions_route_.store(true, std::memory_order_relaxed);
    // Changed, gone or not answered: the read below says which (and 304 if it changed back).
  }
  auto changed = co_await do_get_chat_if_changed(owner, chat_id, hit ? hit->version : 0);
  if (!changed) co_return changed.error();
  if (!changed->has_value()) co_return ChatWithMessages(*hit->value);  // db-api checked the version
  co_return std::move(**changed);
}

ChatStore::Async<std::optional<ChatWithMessages>> DbApiChatStore::do_get_chat_if_changed(const std::string& owner,
                                                                                       const std::string& chat_id,
                                                                                       int64_t known_version) {
  Reply r = co_await call(static_cast<int>(net::Method::get), "/v1/chats/" + chat_id, owner, "", true, known_version);
  if (r.error) co_return *r.error;
  if (r.status == 304) co_return std::optional<ChatWithMessages>();
  auto chat = wire::parse_chat_with_messages(r.body);
  if (!chat) co_return chat.error();
  if (chats_.max_cost() > 0 && chat->version > 0) {
    size_t cost = 256 + chat->chat.title.size() + chat->chat.system_prompt.size();
    for (const Message& m : chat->messages) cost += 256 + m.content.size();
    chats_.put(chat_id, owner, chat->version, std::make_shared<const ChatWithMessages>(chat.value()), cost);
  }
  co_return std::optional<ChatWithMessages>(std::move(chat.value()));
}

// One request for all of them; db-api answers null for a chat that is gone or another owner's.
ChatStore::Async<std::vector<std::optional<int64_t>>> DbApiChatStore::do_chat_versions(std::vector<ChatRef> refs) {
  Reply r = co_await call(static_cast<int>(net::Method::post), "/v1/chat-versions", "", version_checks_body(refs),
                          true);
  if (r.error) co_return *r.error;
  const json::value* versions = r.body.if_contains("versions");
  if (!versions || !versions->is_array() || versions->get_array().size() != refs.size())
    co_return make_error(ErrorCode::internal, "db-api answered a malformed version list");
  std::vector<std::optional<int64_t>> out;
  out.reserve(refs.size());
  for (const json::value& v : versions->get_array()) {
    if (v.is_int64()) out.emplace_back(v.get_int64());
    else if (v.is_null()) out.emplace_back();
    else co_return make_error(ErrorCode::internal, "db-api answered a malformed version list");
  }
  co_return out;
}

ChatStore::Async<Chat> DbApiChatStore::do_update_chat(const std::string& owner, const std::string& chat_id,
                                                      ChatPatch patch) {
  std::string body = json::serialize(wire::to_json(patch));
  Reply r = co_await call(static_cast<int>(net::Method::patch), "/v1/chats/" + chat_id, owner, std::move(body), true);
  if (r.error) co_return *r.error;
  co_return wire::parse_chat(r.body);
}

ChatStore::Async<Unit> DbApiChatStore::do_delete_chat(const std::string& owner, const std::string& chat_id) {
  Reply r = co_await call(static_cast<int>(net::Method::delete_), "/v1/chats/" + chat_id, owner, "", true);
  if (r.error) co_return *r.error;
  co_return Unit{};
}

ChatStore::Async<AppendResult> DbApiChatStore::do_append_message(const std::string& owner, const std::string& chat_id,
                                                                 NewMessage message) {
  bool idempotent = message.client_key.has_value();
  std::string body = json::serialize(wire::to_json(message));
  Reply r = co_await call(static_cast<int>(net::Method::post), "/v1/chats/" + chat_id + "/messages", owner,
                          std::move(body), idempotent);
  if (r.error) co_return *r.error;
  auto m = wire::parse_message(r.body);
  if (!m) co_return m.error();
  co_return AppendResult{std::move(m.value()), r.status == 201};
}

ChatStore::Async<Message> DbApiChatStore::do_update_message(const std::string& owner, const std::string& chat_id,
                                                            const std::string& message_id, MessagePatch patch) {
  std::string body = json::serialize(wire::to_json(patch));
  Reply r = co_await call(static_cast<int>(net::Method::patch), "/v1/chats/" + chat_id + "/messages/" + message_id,
                          owner, std::move(body), true);
  if (r.error) co_return *r.error;
  co_return wire::parse_message(r.body);
}

}  // namespace parley::store
