// The reply routes of UiService: post a message, regenerate, stop; and the generation itself
// (busy retries, streaming, storing what was generated whatever happens).
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "net/response_stream.hpp"
#include "net/sse.hpp"
#include "services/ui/ui_context.hpp"
#include "services/ui/ui_service.hpp"

namespace parley::services::ui {
namespace {

using net::Response;
using Clock = std::chrono::steady_clock;

std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  net::append_json_string(out, s);
  return out;
}

// {"html": ..., "message": ...} for the done/error/user events.
std::string event_payload(std::string_view html, std::string_view message = {}, std::string_view title = {}) {
  std::string out = "{\"html\":";
  net::append_json_string(out, html);
  if (!message.empty()) {
    out += ",\"message\":";
    net::append_json_string(out, message);
  }
  if (!title.empty()) {
    out += ",\"title\":";
    net::append_json_string(out, title);
  }
  out += '}';
  return out;
}

class NullSink final : public UiService::ReplySink {
 public:
  boost::asio::awaitable<bool> piece(std::string_view) override { co_return true; }
  boost::asio::awaitable<bool> status(std::string_view) override { co_return true; }
};

class SseSink final : public UiService::ReplySink {
 public:
  explicit SseSink(net::ResponseStream& out) : out_(out) {}
  boost::asio::awaitable<bool> piece(std::string_view text) override {
    std::string event = net::sse_event(json_string(text), "piece");
    bool ok = co_await out_.write(event);
    co_return ok;
  }
  boost::asio::awaitable<bool> status(std::string_view message) override {
    std::string payload = "{\"message\":" + json_string(message) + "}";
    std::string event = net::sse_event(payload, "status");
    bool ok = co_await out_.write(event);
    co_return ok;
  }

 private:
  net::ResponseStream& out_;
};

// Waits up to `d`, in short steps so that Stop ends the wait early.
boost::asio::awaitable<void> wait_unless_stopped(std::chrono::milliseconds d, const ActiveGeneration& slot) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  auto until = Clock::now() + d;
  while (!slot.stopped() && Clock::now() < until) {
    timer.expires_after(std::min<Clock::duration>(std::chrono::milliseconds(100), until - Clock::now()));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

// The conversation as the model sees it: the system prompt, then user/assistant turns (empty failed
// replies left out; consecutive turns of one role joined, as chat templates expect alternation).
llm::GenerationInput build_input(const store::ChatWithMessages& chat, const std::optional<int64_t>& max_tokens,
                                 const std::string& request_id) {
  llm::GenerationInput input;
  if (!chat.chat.system_prompt.empty()) input.messages.push_back({"system", chat.chat.system_prompt});
  for (const store::Message& m : chat.messages) {
    if (m.role == store::Role::system || m.content.empty()) continue;
    std::string role = store::to_string(m.role);
    if (!input.messages.empty() && input.messages.back().role == role && role != "system") {
      input.messages.back().content += "\n\n" + m.content;
    } else {
      input.messages.push_back({std::move(role), m.content});
    }
  }
  if (auto it = chat.chat.settings.find("temperature"); it != chat.chat.settings.end() && it->value().is_number())
    input.options.temperature = it->value().to_number<double>();
  input.options.max_tokens = max_tokens;
  input.truncate_history = true;
  input.affinity_key = chat.chat.id;
  input.request_id = request_id;
  return input;
}

std::string first_line_title(std::string_view content) {
  size_t nl = content.find('\n');
  std::string_view line = content.substr(0, nl);
  while (!line.empty() && (line.front() == ' ' || line.front() == '#')) line.remove_prefix(1);
  std::string title;
  size_t chars = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) != 0x80 && ++chars > 60) {
      title += "…";
      break;
    }
    title.push_back(line[i]);
  }
  while (!title.empty() && title.back() == ' ') title.pop_back();
  return title.empty() ? "New chat" : title;
}

bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

}  // namespace

struct UiService::ReplyOutcome {
  std::optional<store::Message> stored;  // the reply as stored (nullopt: the store failed)
  store::Message unsaved;                // the reply as generated (shown when it could not be stored)
  std::string error;                     // what went wrong, for the user ("" when nothing did)
};

boost::asio::awaitable<UiService::ReplyOutcome> UiService::run_reply(Context& ctx, const store::ChatWithMessages& chat,
                                                                      std::optional<std::string> replace_id,
                                                                      ReplySink& sink, ActiveGeneration& slot) {
  ReplyOutcome outcome;
  llm::GenerationInput input = build_input(chat, options_.max_tokens, ctx.req.request_id());
  std::string text;
  llm::GenerationSummary summary;
  bool client_gone = false;

  // Start, retrying while the model is busy.
  std::unique_ptr<llm::TextStream> stream;
  auto deadline = Clock::now() + options_.busy_retry_budget;
  auto backoff = options_.busy_first_backoff;
  while (!slot.stopped()) {
    Result<std::unique_ptr<llm::TextStream>> started = make_error(ErrorCode::unavailable, "");
    try {
      llm::GenerationInput attempt = input;
      started = co_await generator_.generate(std::move(attempt));
    } catch (const std::exception& e) {
      started = make_error(ErrorCode::unavailable, e.what());
    }
    if (started) {
      stream = std::move(*started);
      break;
    }
    const Error& e = started.error();
    if (e.code != ErrorCode::unavailable || Clock::now() + backoff > deadline) {
      outcome.error = e.code == ErrorCode::unavailable
                          ? "The language model is busy or not reachable right now. Please try again in a moment."
                          : "The language model could not answer: " + e.message;
      spdlog::warn("ui: request_id={} generation did not start: {}", ctx.req.request_id(), e.message);
      break;
    }
    auto seconds = std::max<long>(1, (backoff.count() + 999) / 1000);
    std::string note = "The language model is busy, retrying in " + std::to_string(seconds) + " s…";
    bool delivered = co_await sink.status(note);
    if (!delivered) {
      client_gone = true;
      slot.stop();
      break;
    }
    co_await wait_unless_stopped(backoff, slot);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(4000));
  }

  bool failed = !stream;
  if (stream) {
    slot.attach(stream.get());
    try {
      while (auto piece = co_await stream->next()) {
        text += *piece;
        bool delivered = client_gone || co_await sink.piece(*piece);
        if (!delivered) {
          client_gone = true;  // the tab closed: stop generating, keep what we have
          slot.stop();
        }
      }
      summary = stream->summary();
    } catch (const std::exception& e) {
      summary.finish_reason = "error";
      summary.error = e.what();
    }
    slot.detach();
    stream.reset();
    if (summary.finish_reason == "error") {
      failed = true;
      outcome.error = "The reply was cut short: the language model failed.";
      spdlog::warn("ui: request_id={} generation failed: {}", ctx.req.request_id(), summary.error);
    }
  } else if (slot.stopped() && outcome.error.empty()) {
    summary.finish_reason = "cancelled";
  }

  // Store what was generated, whatever happened.
  store::MessageStatus status = store::MessageStatus::complete;
  if (failed && summary.finish_reason != "cancelled") status = store::MessageStatus::error;
  else if (summary.finish_reason == "cancelled" || text.empty()) status = store::MessageStatus::partial;
  std::string finish = failed && summary.finish_reason.empty() ? "error" : summary.finish_reason;

  outcome.unsaved = store::Message{.id = "unsaved", .chat_id = chat.chat.id, .role = store::Role::assistant,
                                   .content = text, .status = status, .finish_reason = finish};
  if (replace_id) {
    store::MessagePatch patch{.content = text, .status = status, .prompt_tokens = summary.prompt_tokens,
                              .completion_tokens = summary.completion_tokens, .finish_reason = finish};
    std::string owner = ctx.session.owner, chat_id = chat.chat.id, message_id = *replace_id;
    auto saved = co_await store_.update_message(owner, chat_id, message_id, std::move(patch));
    if (saved) outcome.stored = std::move(*saved);
    else outcome.error = "The reply could not be saved: " + saved.error().message;
  } else {
    store::NewMessage message{.role = store::Role::assistant, .content = text, .status = status,
                              .prompt_tokens = summary.prompt_tokens,
                              .completion_tokens = summary.completion_tokens, .finish_reason = finish};
    std::string owner = ctx.session.owner, chat_id = chat.chat.id;
    auto saved = co_await store_.append_message(owner, chat_id, std::move(message));
    if (saved) outcome.stored = std::move(saved->message);
    else outcome.error = "The reply could not be saved: " + saved.error().message;
  }
  co_return outcome;
}

UiService::Awaitable UiService::respond_with_reply(Context& ctx, const store::ChatWithMessages& chat,
                                                   std::optional<std::string> replace_id,
                                                   std::shared_ptr<ActiveGeneration> slot,
                                                   const std::optional<store::Message>& user_message) {
  if (!ctx.wants_stream || !ctx.req.has_stream()) {
    NullSink sink;
    ReplyOutcome outcome = co_await run_reply(ctx, chat, replace_id, sink, *slot);
    if (!outcome.stored) co_return error_response(ctx, make_error(ErrorCode::unavailable, outcome.error), ctx.chat_url());
    co_return redirect(ctx, ctx.chat_url() + "#" + outcome.stored->id);
  }

  net::ResponseStream& out = ctx.req.stream();
  std::weak_ptr<ActiveGeneration> weak = slot;
  out.on_client_gone([weak] {
    if (auto s = weak.lock()) s->stop();
  });
  if (!co_await out.begin_sse(response_headers(ctx))) {
    slot->stop();
  } else if (user_message) {
    std::string event = net::sse_event(event_payload(pages_.message(*user_message), {}, ctx.new_title), "user");
    co_await out.write(event);
  }
  SseSink sink(out);
  ReplyOutcome outcome = co_await run_reply(ctx, chat, replace_id, sink, *slot);
  const store::Message& shown = outcome.stored ? *outcome.stored : outcome.unsaved;
  std::string payload = event_payload(pages_.message(shown), outcome.error);
  std::string event = net::sse_event(payload, outcome.error.empty() ? "done" : "error");
  co_await out.write(event);
  co_await out.finish();
  co_return Response{};
}

UiService::Awaitable UiService::post_message(Context& ctx) {
  std::string content(ctx.form.get("content"));
  if (is_blank(content))
    co_return error_response(ctx, make_error(ErrorCode::invalid_argument, "The message is empty."), ctx.chat_url());
  std::string owner = ctx.session.owner, id = ctx.chat_id();
  auto chat = co_await store_.get_chat(owner, id);
  if (!chat) {
    Error e = chat.error();
    if (e.code == ErrorCode::not_found || e.code == ErrorCode::invalid_argument)
      e = make_error(ErrorCode::not_found, "This chat does not exist (or is not yours).");
    else if (e.code == ErrorCode::unavailable)
      e.message = "The chat database is not reachable right now; your message was not sent. Please try again.";
    co_return error_response(ctx, e, "/");
  }
  int64_t retry_after_s = 0;
  auto slot = start_generation(ctx, chat->chat.id, retry_after_s);
  if (!slot) co_return refused(ctx, *chat, slot.error(), retry_after_s);

  // The user's message is stored before anything is generated.
  store::NewMessage user_message{.role = store::Role::user, .content = content};
  auto appended = co_await store_.append_message(owner, id, std::move(user_message));
  if (!appended) {
    rate_limiter_.refund(ctx.session.owner);  // nothing was generated
    Error e = appended.error();
    if (e.code == ErrorCode::unavailable)
      e.message = "The chat database is not reachable right now; your message was not sent. Please try again.";
    co_return error_response(ctx, e, ctx.chat_url());
  }
  bool first = true;
  for (const auto& m : chat->messages) first = first && m.role != store::Role::user;
  if (first && chat->chat.title == "New chat") {
    std::string title = first_line_title(content);
    store::ChatPatch patch{.title = title};
    auto renamed = co_await store_.update_chat(owner, id, std::move(patch));
    if (renamed) ctx.new_title = title;  // a title is a nicety; the message is what matters
  }
  chat->messages.push_back(appended->message);
  std::optional<std::string> no_replace;
  std::optional<store::Message> shown_user = appended->message;
  std::shared_ptr<ActiveGeneration> generation = std::move(*slot);
  Response response = co_await respond_with_reply(ctx, *chat, no_replace, generation, shown_user);
  co_return response;
}

UiService::Awaitable UiService::regenerate(Context& ctx) {
  std::string owner = ctx.session.owner, id = ctx.chat_id();
  auto chat = co_await store_.get_chat(owner, id);
  if (!chat) {
    Error e = chat.error().code == ErrorCode::invalid_argument ? make_error(ErrorCode::not_found, "") : chat.error();
    if (e.code == ErrorCode::not_found) e.message = "This chat does not exist (or is not yours).";
    if (e.code == ErrorCode::unavailable) e.message = "The chat database is not reachable right now. Please try again.";
    co_return error_response(ctx, e, "/");
  }
  // The history the model sees ends with the last user message: trailing system messages and the
  // reply being replaced are left out (found first, removed once the limits allowed the reply).
  auto& messages = chat->messages;
  size_t keep = messages.size();
  while (keep > 0 && messages[keep - 1].role == store::Role::system) --keep;
  std::optional<std::string> replace_id;
  if (keep > 0 && messages[keep - 1].role == store::Role::assistant) replace_id = messages[--keep].id;
  if (keep == 0 || messages[keep - 1].role != store::Role::user)
    co_return error_response(ctx, make_error(ErrorCode::invalid_argument, "There is no reply to regenerate yet."),
                             ctx.chat_url());
  int64_t retry_after_s = 0;
  auto slot = start_generation(ctx, chat->chat.id, retry_after_s);
  if (!slot) co_return refused(ctx, *chat, slot.error(), retry_after_s);
  messages.resize(keep);
  std::optional<store::Message> no_user;
  std::shared_ptr<ActiveGeneration> generation = std::move(*slot);
  Response response = co_await respond_with_reply(ctx, *chat, replace_id, generation, no_user);
  co_return response;
}

Result<std::shared_ptr<ActiveGeneration>> UiService::start_generation(Context& ctx, const std::string& chat_id,
                                                                       int64_t& retry_after_s) {
  retry_after_s = 0;
  auto slot = generations_.try_start(ctx.session.owner, chat_id);
  if (!slot) {
    retry_after_s = 2;  // a running reply ends, or the replica has room again, within seconds
    return slot.error();
  }
  if (int64_t wait_s = rate_limiter_.try_take(ctx.session.owner); wait_s > 0) {
    retry_after_s = wait_s;
    return make_error(ErrorCode::rate_limited, "You have asked for many replies in a short time. You can send again in " +
                                                   std::to_string(wait_s) + (wait_s == 1 ? " second." : " seconds."));
  }
  return slot;  // the slot is released when the reply ends (or here, when refused: `slot` goes away)
}

Response UiService::refused(Context& ctx, const store::ChatWithMessages& chat, const Error& error,
                            int64_t retry_after_s) const {
  Response r = ctx.wants_stream || ctx.wants_json
                   ? Response::error(error)
                   : Response::html(http_status(error.code),
                                    pages_.chat(chat, ctx.session.csrf, pages_.notice("error", error.message)));
  if (retry_after_s > 0) r.set_header("Retry-After", std::to_string(retry_after_s));
  return r;
}

UiService::Awaitable UiService::stop(Context& ctx) {
  std::string owner = ctx.session.owner, id = ctx.chat_id();
  if (!generations_.stop(owner, id)) {
    // Nothing running: still a 404 for a chat that is not this session's.
    auto chat = co_await store_.get_chat(owner, id);
    if (!chat && chat.error().code != ErrorCode::unavailable)
      co_return error_response(ctx, make_error(ErrorCode::not_found, "This chat does not exist (or is not yours)."), "/");
  }
  co_return redirect(ctx, ctx.chat_url());
}

}  // namespace parley::services::ui
