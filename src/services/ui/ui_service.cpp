#include "services/ui/ui_service.hpp"

#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

#include "core/config.hpp"
#include "core/ids.hpp"
#include "net/response_stream.hpp"
#include "services/ui/ui_context.hpp"
#include "services/ui/web_assets.hpp"

namespace parley::services::ui {
namespace {

using net::Method;
using net::Response;

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
constexpr size_t kMaxTitleChars = 200;

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

UiService::UiService(store::ChatStore& store, llm::Generator& generator, SessionSealer sealer, UiOptions options)
    : store_(store),
      generator_(generator),
      sealer_(std::move(sealer)),
      options_(std::move(options)),
      pages_(options_.model_label.empty() ? generator.model_name() : options_.model_label),
      generations_(options_.max_generations_per_session, options_.max_generations_total),
      rate_limiter_(options_.generation_rate, options_.monotonic_ms) {}

UiService::~UiService() = default;

int64_t UiService::now_s() const {
  if (options_.clock_s) return options_.clock_s();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void UiService::route(net::Router& router, Method method, const char* pattern, Member handler, bool state_changing) {
  router.add(method, pattern, [this, handler, state_changing](net::Request& req) {
    return dispatch(req, handler, state_changing);
  });
}

void UiService::add_routes(net::Router& router) {
  route(router, Method::get, "/", &UiService::home, false);
  route(router, Method::post, "/chats", &UiService::new_chat, true);
  route(router, Method::get, "/chats/{id}", &UiService::chat_page, false);
  route(router, Method::post, "/chats/{id}/messages", &UiService::post_message, true);
  route(router, Method::post, "/chats/{id}/regenerate", &UiService::regenerate, true);
  route(router, Method::post, "/chats/{id}/stop", &UiService::stop, true);
  route(router, Method::post, "/chats/{id}/rename", &UiService::rename, true);
  route(router, Method::post, "/chats/{id}/settings", &UiService::settings, true);
  route(router, Method::post, "/chats/{id}/delete", &UiService::delete_chat, true);
  router.get("/static/{path*}", [this](net::Request& req) -> boost::asio::awaitable<Response> {
    co_return static_file(req);
  });
}

net::ReadinessCheck UiService::readiness() {
  return [this]() -> boost::asio::awaitable<Status> {
    auto store_ready = co_await store_.check_ready();
    if (!store_ready) co_return make_error(ErrorCode::unavailable, "chat store: " + store_ready.error().message);
    auto model_ready = co_await generator_.ready();
    if (!model_ready) co_return make_error(ErrorCode::unavailable, "language model: " + model_ready.error().message);
    co_return ok_status();
  };
}

net::Headers UiService::response_headers(Context& ctx) const {
  net::Headers h{{"Content-Security-Policy", std::string(kContentSecurityPolicy)},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Referrer-Policy", "same-origin"},
                 {"X-Frame-Options", "DENY"},
                 {"Cache-Control", "no-store"}};
  if (ctx.send_cookie) {
    std::string cookie = std::string(kCookieName) + "=" + sealer_.seal(ctx.session) +
                         "; Path=/; Max-Age=" + std::to_string(sealer_.policy().max_idle_s) +
                         "; HttpOnly; SameSite=Lax";
    if (ctx.req.secure()) cookie += "; Secure";
    h.push_back({"Set-Cookie", std::move(cookie)});
  }
  return h;
}

UiService::Awaitable UiService::dispatch(net::Request& req, Member handler, bool state_changing) {
  int64_t now = now_s();
  auto opened = sealer_.unseal(cookie_value(req.header("Cookie"), kCookieName), now);
  Context ctx{.req = req, .session = opened ? opened->session : Session::fresh(now)};
  ctx.send_cookie = !opened || opened->needs_reseal;
  if (opened && opened->needs_reseal) ctx.session.issued_s = now;
  std::string_view accept = req.header("Accept");
  ctx.wants_stream = contains(accept, "text/event-stream");
  ctx.wants_json = contains(accept, "application/json");

  Response response;
  bool handled = false;
  if (state_changing) {
    ctx.form = parse_form(req.body());
    std::string_view token = req.header("X-CSRF-Token");
    if (token.empty()) token = ctx.form.get("csrf");
    if (!opened || token.empty() || !secure_equals(token, ctx.session.csrf)) {
      response = error_response(ctx, make_error(ErrorCode::forbidden,
                                                "This form has expired or did not come from this site. "
                                                "Reload the page and try again."), "/");
      handled = true;
    }
  }
  if (!handled) {
    try {
      response = co_await (this->*handler)(ctx);
    } catch (const std::exception& e) {
      // A dependency failed in a way its seam reports as an exception (I/O, a broken peer).
      spdlog::error("ui: request_id={} {} {}: {}", req.request_id(), req.method_name(), req.path(), e.what());
      response = error_response(ctx, make_error(ErrorCode::unavailable,
                                                "A service Parley depends on is not reachable right now. "
                                                "Please try again in a moment."), "/");
    }
  }
  if (req.has_stream() && req.stream().started()) co_return Response{};
  for (auto& h : response_headers(ctx)) response.headers.push_back(std::move(h));
  co_return response;
}

Response UiService::error_response(Context& ctx, const Error& error, std::string_view back) const {
  if (ctx.wants_stream || ctx.wants_json) return Response::error(error);
  std::string_view heading = "Something went wrong";
  switch (error.code) {
    case ErrorCode::not_found: heading = "Not found"; break;
    case ErrorCode::forbidden: heading = "Not allowed"; break;
    case ErrorCode::invalid_argument:
    case ErrorCode::payload_too_large: heading = "That did not work"; break;
    case ErrorCode::rate_limited:
    case ErrorCode::conflict: heading = "Please wait"; break;
    case ErrorCode::unavailable: heading = "Temporarily unavailable"; break;
    default: break;
  }
  Response r = Response::html(http_status(error.code), pages_.error(heading, error.message, back));
  if (error.code == ErrorCode::unavailable || error.code == ErrorCode::rate_limited) r.set_header("Retry-After", "2");
  return r;
}

Response UiService::redirect(Context& ctx, std::string location) const {
  if (ctx.wants_json) return Response::no_content();
  return Response::redirect(303, std::move(location));
}

namespace {
// The store's errors as the UI shows them.
Error ui_error(const Error& e, std::string_view what) {
  switch (e.code) {
    case ErrorCode::not_found: return make_error(ErrorCode::not_found, "This chat does not exist (or is not yours).");
    case ErrorCode::unavailable:
      return make_error(ErrorCode::unavailable,
                        "The chat database is not reachable right now, so " + std::string(what) +
                            " did not happen. Please try again in a moment.");
    default: return e;
  }
}
}  // namespace

UiService::Awaitable UiService::home(Context& ctx) {
  store::ListChatsQuery q{.limit = 50};
  if (auto cursor = ctx.req.query("cursor"); cursor && !cursor->empty()) q.cursor = *cursor;
  std::string owner = ctx.session.owner;
  auto page = co_await store_.list_chats(owner, q);
  if (!page) co_return error_response(ctx, ui_error(page.error(), "loading your chats"), "/");
  co_return Response::html(200, pages_.home(*page, ctx.session.csrf));
}

UiService::Awaitable UiService::new_chat(Context& ctx) {
  store::NewChat chat{.title = "New chat"};
  std::string owner = ctx.session.owner;
  auto created = co_await store_.create_chat(owner, std::move(chat));
  if (!created) co_return error_response(ctx, ui_error(created.error(), "creating the chat"), "/");
  co_return redirect(ctx, "/chats/" + created->id);
}

UiService::Awaitable UiService::chat_page(Context& ctx) {
  std::string owner = ctx.session.owner, id = ctx.chat_id();
  auto chat = co_await store_.get_chat(owner, id);
  if (!chat) {
    Error e = chat.error().code == ErrorCode::invalid_argument ? make_error(ErrorCode::not_found, "") : chat.error();
    co_return error_response(ctx, ui_error(e, "loading the chat"), "/");
  }
  std::string notice;
  if (generations_.running(ctx.session.owner, chat->chat.id))
    notice = pages_.notice("info", "A reply is being written right now; reload in a moment to see it.");
  co_return Response::html(200, pages_.chat(*chat, ctx.session.csrf, notice));
}

UiService::Awaitable UiService::rename(Context& ctx) {
  std::string_view title = trim(ctx.form.get("title"));
  if (title.empty() || utf8_chars(title) > kMaxTitleChars)
    co_return error_response(ctx, make_error(ErrorCode::invalid_argument, "A title needs 1 to 200 characters."),
                             ctx.chat_url());
  std::string owner = ctx.session.owner, id = ctx.chat_id();
  store::ChatPatch patch{.title = std::string(title)};
  auto updated = co_await store_.update_chat(owner, id, std::move(patch));
  if (!updated) co_return error_response(ctx, ui_error(updated.error(), "the rename"), ctx.chat_url());
  co_return redirect(ctx, ctx.chat_url());
}

UiService::Awaitable UiService::settings(Context& ctx) {
  std::string owner = ctx.session.owner, id = ctx.chat_id();
  auto chat = co_await store_.get_chat(owner, id);
  if (!chat) co_return error_response(ctx, ui_error(chat.error(), "saving the settings"), "/");
  boost::json::object settings = chat->chat.settings;
  std::string_view temperature = trim(ctx.form.get("temperature"));
  if (temperature.empty()) {
    settings.erase("temperature");
  } else {
    auto t = parse_double(temperature);
    if (!t || !(*t >= 0.0 && *t <= 2.0))
      co_return error_response(ctx, make_error(ErrorCode::invalid_argument, "Temperature must be a number from 0 to 2."),
                               ctx.chat_url());
    settings["temperature"] = *t;
  }
  store::ChatPatch patch{.system_prompt = std::string(ctx.form.get("system_prompt")), .settings = std::move(settings)};
  auto updated = co_await store_.update_chat(owner, id, std::move(patch));
  if (!updated) co_return error_response(ctx, ui_error(updated.error(), "saving the settings"), ctx.chat_url());
  co_return redirect(ctx, ctx.chat_url());
}

UiService::Awaitable UiService::delete_chat(Context& ctx) {
  std::string owner = ctx.session.owner, id = ctx.chat_id();
  auto deleted = co_await store_.delete_chat(owner, id);
  if (!deleted) co_return error_response(ctx, ui_error(deleted.error(), "the delete"), "/");
  generations_.stop(owner, id);
  co_return redirect(ctx, "/");
}

Response UiService::static_file(net::Request& req) const {
  std::string path = "static/" + std::string(req.param("path"));
  const WebAsset* asset = find_web_asset(path);
  if (!asset) return Response::error(ErrorCode::not_found, "no such file");
  Response r = Response::text(200, std::string(asset->data), std::string(asset->content_type));
  auto v = req.query("v");
  r.set_header("Cache-Control", v && *v == asset->version ? "public, max-age=31536000, immutable" : "no-cache");
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Content-Security-Policy", std::string(kContentSecurityPolicy));
  return r;
}

}  // namespace parley::services::ui
