#include "services/ui/pages.hpp"

#include <fmt/format.h>

#include <functional>
#include <stdexcept>

#include "services/ui/markdown.hpp"
#include "services/ui/web_assets.hpp"
#include "store/ids.hpp"

namespace parley::services::ui {
namespace {

PageTemplate load(std::string_view name) {
  const WebAsset* asset = find_web_asset("templates/" + std::string(name));
  if (!asset) throw std::runtime_error("web asset missing: templates/" + std::string(name));
  return PageTemplate(asset->data);
}

std::string_view version_of(std::string_view path) {
  const WebAsset* asset = find_web_asset(path);
  return asset ? asset->version : std::string_view("0");
}

// "2026-11-27 19:05" (UTC) from store time.
std::string when_label(store::TimeMs ms) {
  std::string t = store::format_time(ms);  // 2026-11-27T18:40:19.123Z
  if (t.size() >= 16) {
    t[10] = ' ';
    t.resize(16);
  }
  return t + " UTC";
}

// What the message list shows, hashed (about 1 ns per byte of content).
uint64_t message_list_fingerprint(const std::vector<store::Message>& messages) {
  uint64_t h = 0xcbf29ce484222325ull ^ messages.size();
  auto mix = [&h](uint64_t v) { h = (h ^ v) * 0x100000001b3ull + (h >> 29); };
  std::hash<std::string_view> hash;
  for (const store::Message& m : messages) {
    mix(hash(m.id));
    mix(hash(m.content));
    mix(hash(m.finish_reason));
    mix(static_cast<uint64_t>(m.role) << 8 | static_cast<uint64_t>(m.status));
  }
  return h;
}

}  // namespace

Pages::Pages(std::string model_label)
    : model_label_(std::move(model_label)),
      css_version_(version_of("static/app.css")),
      js_version_(version_of("static/app.js")),
      layout_(load("layout.html")),
      home_(load("home.html")),
      chat_item_(load("chat_item.html")),
      chat_(load("chat.html")),
      message_(load("message.html")),
      notice_(load("notice.html")),
      error_(load("error.html")) {}

std::string Pages::layout(std::string_view title, const std::string& content) const {
  return layout_.render({{"title", title},
                         {"css_version", css_version_},
                         {"js_version", js_version_},
                         {"model", model_label_},
                         {"content", content}});
}

std::string Pages::home(const store::ChatPage& page, std::string_view csrf) const {
  std::string items;
  for (const store::Chat& c : page.chats) {
    std::string when = store::format_time(c.updated_at);
    chat_item_.render(items, {{"id", c.id}, {"title", c.title}, {"when", when}, {"when_label", when_label(c.updated_at)}});
  }
  if (page.next_cursor) {
    items += "<li class=\"more\"><a href=\"/?cursor=";
    append_escaped(items, *page.next_cursor);
    items += "\">Older chats</a></li>\n";
  }
  std::string_view empty = page.chats.empty() ? "<p class=\"empty\">No chats yet. Start one with “New chat”.</p>\n" : "";
  return layout("Chats", home_.render({{"csrf", csrf}, {"chats", items}, {"empty", empty}}));
}

std::string_view Pages::status_note(const store::Message& m) {
  if (m.role != store::Role::assistant) return "";
  if (m.status == store::MessageStatus::partial) {
    if (m.finish_reason == "cancelled") return "<p class=\"note\">Stopped before the end.</p>";
    return "<p class=\"note\">This reply was cut short.</p>";
  }
  if (m.status == store::MessageStatus::error)
    return "<p class=\"note error\">The reply failed (the language model was busy or unreachable). "
           "Use “Regenerate last reply” to try again.</p>";
  return "";
}

std::string Pages::message(const store::Message& m) const {
  // Only stored messages (with a real id) are cached.
  std::string html = m.id.starts_with("msg_") ? markdown_.render(m.id, m.content) : render_markdown(m.content);
  std::string out;
  bool user = m.role == store::Role::user;
  message_.render(out, {{"role", store::to_string(m.role)},
                        {"status", store::to_string(m.status)},
                        {"id", m.id},
                        {"who", user ? "You" : "Assistant"},
                        {"html", html},
                        {"note", status_note(m)}});
  return out;
}

std::string Pages::message_list(const store::ChatWithMessages& c) const {
  std::string items;
  items.reserve(c.messages.size() * 512);
  for (const store::Message& m : c.messages) {
    if (m.role == store::Role::system) continue;
    items += message(m);
    items += '\n';
  }
  return items;
}

std::string Pages::chat(const store::ChatWithMessages& c, std::string_view csrf, std::string_view notice_html) const {
  std::shared_ptr<const MessageList> items;
  uint64_t fingerprint = 0;
  if (c.version > 0) {
    fingerprint = message_list_fingerprint(c.messages);
    auto hit = message_lists_.find(c.chat.id, c.chat.owner);
    if (hit && hit->version == c.version && hit->value->fingerprint == fingerprint) items = std::move(hit->value);
  }
  if (!items) {
    items = std::make_shared<const MessageList>(MessageList{fingerprint, message_list(c)});
    if (c.version > 0) message_lists_.put(c.chat.id, c.chat.owner, c.version, items, items->html.size() + 64);
  }
  std::string temperature;
  if (auto it = c.chat.settings.find("temperature"); it != c.chat.settings.end() && it->value().is_number())
    temperature = fmt::format("{:g}", it->value().to_number<double>());
  return layout(c.chat.title, chat_.render({{"id", c.chat.id},
                                            {"title", c.chat.title},
                                            {"csrf", csrf},
                                            {"system_prompt", c.chat.system_prompt},
                                            {"temperature", temperature},
                                            {"notice", notice_html},
                                            {"messages", items->html}}));
}

std::string Pages::notice(std::string_view kind, std::string_view message) const {
  return notice_.render({{"kind", kind}, {"message", message}});
}

std::string Pages::error(std::string_view heading, std::string_view message, std::string_view back) const {
  return layout(heading, error_.render({{"heading", heading}, {"message", message}, {"back", back}}));
}

}  // namespace parley::services::ui
