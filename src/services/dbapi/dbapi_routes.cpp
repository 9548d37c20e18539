#include "services/dbapi/dbapi_routes.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <memory>
#include <stdexcept>
#include <variant>

#include "core/ids.hpp"
#include "net/json.hpp"
#include "store/validation.hpp"
#include "store/versioned_cache.hpp"
#include "store/wire_json.hpp"

namespace asio = boost::asio;

namespace parley::services::dbapi {
namespace {

using net::Request;
using net::Response;

struct V1 {
  store::ChatStore* store;
  std::string token;
  store::VersionedCache<std::string> chats;  // rendered GET /v1/chats/{id} bodies

  V1(store::ChatStore* s, std::string t, size_t cache_bytes) : store(s), token(std::move(t)), chats(cache_bytes) {}

  // 401 unless the bearer token matches (compared in constant time), then 400 unless the owner
  // header is valid. Returns the owner, or the error response.
  std::variant<std::string, Response> caller(const Request& req) const {
    if (auto denied = unauthorized(req)) return std::move(*denied);
    std::string_view owner = req.header("X-Parley-Owner");
    if (owner.empty()) return Response::error(ErrorCode::invalid_argument, "missing X-Parley-Owner header");
    if (auto s = store::validate_owner(owner); !s)
      return Response::error(ErrorCode::invalid_argument, "X-Parley-Owner: " + s.error().message);
    return std::string(owner);
  }

  // The 401 response unless the bearer token matches (compared in constant time).
  std::optional<Response> unauthorized(const Request& req) const {
    std::string_view presented = req.bearer_token();
    if (!presented.empty() && secure_equals(presented, token)) return std::nullopt;
    Response r = Response::error(ErrorCode::unauthorized, "missing or invalid service token");
    r.set_header("WWW-Authenticate", "Bearer");
    return r;
  }
};

// {"chats": [{"id": "chat_...", "owner": "..."}, ...]} -> refs; a clear error for anything else.
Result<std::vector<store::ChatRef>> parse_version_checks(const boost::json::object& body) {
  const boost::json::value* chats = body.if_contains("chats");
  if (!chats || !chats->is_array()) return make_error(ErrorCode::invalid_argument, "chats must be an array");
  if (chats->get_array().size() > store::kMaxVersionChecks)
    return make_error(ErrorCode::invalid_argument,
                      "at most " + std::to_string(store::kMaxVersionChecks) + " chats per request");
  std::vector<store::ChatRef> refs;
  refs.reserve(chats->get_array().size());
  for (const boost::json::value& c : chats->get_array()) {
    const boost::json::object* o = c.if_object();
    const boost::json::value* id = o ? o->if_contains("id") : nullptr;
    const boost::json::value* owner = o ? o->if_contains("owner") : nullptr;
    if (!id || !id->is_string() || !owner || !owner->is_string())
      return make_error(ErrorCode::invalid_argument, "each chat must be {\"id\": string, \"owner\": string}");
    refs.push_back({std::string(id->get_string()), std::string(owner->get_string())});
  }
  return refs;
}

template <typename T>
Response render(int status, const Result<T>& r) {
  if (!r) return Response::error(r.error());
  return Response::json(status, store::wire::render_json(r.value()));
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// A chat version from If-None-Match ("12", W/"12" or a list of them: the first); 0 when none.
int64_t version_from_if_none_match(std::string_view h) {
  size_t q = h.find('"');
  if (q == std::string_view::npos) return 0;
  size_t end = h.find('"', q + 1);
  if (end == std::string_view::npos) return 0;
  auto v = parse_int(h.substr(q + 1, end - q - 1));
  return v && *v > 0 ? *v : 0;
}

std::string etag(int64_t version) {
  char buf[24];
  buf[0] = '"';
  char* end = std::to_chars(buf + 1, buf + sizeof buf - 1, version).ptr;
  *end++ = '"';
  return std::string(buf, end);
}

#define PARLEY_CALLER(api, req, owner)                                   \
  auto caller_or_error = (api)->caller(req);                             \
  if (auto* err = std::get_if<Response>(&caller_or_error)) co_return std::move(*err); \
  std::string owner = std::get<std::string>(std::move(caller_or_error))

}  // namespace

void add_v1_routes(net::Router& router, store::ChatStore& store, std::string service_token, V1Options options) {
  if (service_token.empty()) throw std::invalid_argument("db-api needs a service token");
  auto api = std::make_shared<V1>(&store, std::move(service_token), options.cache_bytes);

  router.post("/v1/chats", [api](Request& req) -> asio::awaitable<Response> {
    PARLEY_CALLER(api, req, owner);
    auto body = net::parse_json_object(req);
    if (!body) co_return Response::error(body.error());
    auto in = store::wire::parse_new_chat(body.value());
    if (!in) co_return Response::error(in.error());
    auto created = co_await api->store->create_chat(owner, std::move(in.value()));
    co_return render(201, created);
  });

  router.get("/v1/chats", [api](Request& req) -> asio::awaitable<Response> {
    PARLEY_CALLER(api, req, owner);
    store::ListChatsQuery q;
    if (auto limit = req.query("limit")) {
      auto n = parse_int(*limit);
      if (!n || *n < 1 || *n > store::kMaxListLimit)
        co_return Response::error(ErrorCode::invalid_argument, "limit must be an integer in [1, 100]");
      q.limit = static_cast<int>(*n);
    }
    q.cursor = req.query("cursor");
    if (auto number = req.query("number")) {
      auto n = parse_int(*number);
      if (!n || *n < 1) co_return Response::error(ErrorCode::invalid_argument, "number must be a positive integer");
      q.number = *n;
    }
    q.username = req.query("username");
    auto page = co_await api->store->list_chats(owner, std::move(q));
    co_return render(200, page);
  });

  // The version to check is the caller's (If-None-Match: 304 when unchanged), else that of our
  // rendered copy (served when unchanged); either way the store checks it against the database.
  router.get("/v1/chats/{id}", [api](Request& req) -> asio::awaitable<Response> {
    PARLEY_CALLER(api, req, owner);
    std::string id(req.param("id"));
    const int64_t theirs = version_from_if_none_match(req.header("If-None-Match"));
    std::optional<store::VersionedCache<std::string>::Hit> ours;
    if (api->chats.max_cost() > 0) ours = api->chats.find(id, owner);
    const int64_t known = theirs > 0 ? theirs : ours ? ours->version : 0;
    auto chat = co_await api->store->get_chat_if_changed(owner, id, known);
    if (!chat) co_return Response::error(chat.error());
    if (!chat->has_value()) {
      if (theirs > 0) {
        Response r;
        r.status = 304;
        r.content_type.clear();
        co_return std::move(r.set_header("ETag", etag(known)));
      }
      co_return std::move(Response::json(200, ours->value).set_header("ETag", etag(known)));
    }
    const store::ChatWithMessages& c = **chat;
    if (ours && ours->version == c.version)
      co_return std::move(Response::json(200, ours->value).set_header("ETag", etag(c.version)));
    auto body = std::make_shared<const std::string>(store::wire::render_json(c));
    if (api->chats.max_cost() > 0) api->chats.put(id, owner, c.version, body, body->size() + id.size());
    co_return std::move(Response::json(200, std::move(body)).set_header("ETag", etag(c.version)));
  });

  // The versions of several chats, each named with its owner (a UI rendering many pages asks for
  // all of them at once): {"versions": [n or null, ...]} in order; null for a chat that does not
  // exist or is another owner's. Checked against the database now, like GET with If-None-Match.
  router.post("/v1/chat-versions", [api](Request& req) -> asio::awaitable<Response> {
    if (auto denied = api->unauthorized(req)) co_return std::move(*denied);
    auto body = net::parse_json_object(req);
    if (!body) co_return Response::error(body.error());
    auto refs = parse_version_checks(body.value());
    if (!refs) co_return Response::error(refs.error());
    auto versions = co_await api->store->chat_versions(std::move(refs.value()));
    if (!versions) co_return Response::error(versions.error());
    std::string out = "{\"versions\":[";
    for (size_t i = 0; i < versions->size(); ++i) {
      if (i) out += ',';
      out += (*versions)[i] ? std::to_string(*(*versions)[i]) : "null";
    }
    out += "]}";
    co_return Response::json(200, std::move(out));
  });

  router.patch("/v1/chats/{id}", [api](Request& req) -> asio::awaitable<Response> {
    PARLEY_CALLER(api, req, owner);
    auto body = net::parse_json_object(req);
    if (!body) co_return Response::error(body.error());
    auto patch = store::wire::parse_chat_patch(body.value());
    if (!patch) co_return Response::error(patch.error());
    auto chat = co_await api->store->update_chat(owner, std::string(req.param("id")), std::move(patch.value()));
    co_return render(200, chat);
  });

  router.del("/v1/chats/{id}", [api](Request& req) -> asio::awaitable<Response> {
    PARLEY_CALLER(api, req, owner);
    auto done = co_await api->store->delete_chat(owner, std::string(req.param("id")));
    if (!done) co_return Response::error(done.error());
    api->chats.erase(req.param("id"));  // memory only: a deleted chat is never served (checked first)
    co_return Response::no_content();
  });

  router.post("/v1/chats/{id}/messages", [api](Request& req) -> asio::awaitable<Response> {
    PARLEY_CALLER(api, req, owner);
    auto body = net::parse_json_object(req);
    if (!body) co_return Response::error(body.error());
    auto in = store::wire::parse_new_message(body.value());
    if (!in) co_return Response::error(in.error());
    auto r = co_await api->store->append_message(owner, std::string(req.param("id")), std::move(in.value()));
    if (!r) co_return Response::error(r.error());
    co_return Response::json(r->created ? 201 : 200, store::wire::render_json(r->message));
  });

  router.patch("/v1/chats/{id}/messages/{mid}", [api](Request& req) -> asio::awaitable<Response> {
    PARLEY_CALLER(api, req, owner);
    auto body = net::parse_json_object(req);
    if (!body) co_return Response::error(body.error());
    auto patch = store::wire::parse_message_patch(body.value());
    if (!patch) co_return Response::error(patch.error());
    auto m = co_await api->store->update_message(owner, std::string(req.param("id")), std::string(req.param("mid")),
                                                 std::move(patch.value()));
    co_return render(200, m);
  });
}

}  // namespace parley::services::dbapi
