#include "store/wire_json.hpp"

#include <boost/json/array.hpp>

#include <boost/json/serialize.hpp>

#include <charconv>
#include <initializer_list>

#include "store/ids.hpp"

namespace json = boost::json;

namespace parley::store::wire {
namespace {

Error invalid(std::string message) { return make_error(ErrorCode::invalid_argument, std::move(message)); }

// Reads typed fields of one JSON object; the first problem is kept in error.
class Fields {
 public:
  Fields(const json::object& obj, ErrorCode code) : obj_(obj), code_(code) {}

  Status check_known(std::initializer_list<std::string_view> names) const {
    for (const auto& kv : obj_) {
      bool known = false;
      for (auto n : names) known = known || kv.key() == n;
      if (!known) return make_error(code_, "unknown field \"" + std::string(kv.key()) + "\"");
    }
    return ok_status();
  }

  const json::value* find(std::string_view name) const {
    auto it = obj_.find(name);
    if (it == obj_.end() || it->value().is_null()) return nullptr;
    return &it->value();
  }

  std::optional<std::string> string(std::string_view name) {
    const json::value* v = find(name);
    if (!v) return std::nullopt;
    if (!v->is_string()) return fail(name, "a string");
    return std::string(v->get_string());
  }
  std::optional<int64_t> integer(std::string_view name) {
    const json::value* v = find(name);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v->get_uint64());
    return fail(name, "an integer");
  }
  std::optional<json::object> object(std::string_view name) {
    const json::value* v = find(name);
    if (!v) return std::nullopt;
    if (!v->is_object()) return fail(name, "an object");
    return v->get_object();
  }
  const json::array* array(std::string_view name) {
    const json::value* v = find(name);
    if (!v) return nullptr;
    if (!v->is_array()) {
      fail(name, "an array");
      return nullptr;
    }
    return &v->get_array();
  }
  std::optional<Role> role(std::string_view name) {
    auto s = string(name);
    if (!s) return std::nullopt;
    auto r = parse_role(*s);
    if (!r) set_error(std::string(name) + " must be one of system, user, assistant");
    return r;
  }
  std::optional<MessageStatus> status(std::string_view name) {
    auto s = string(name);
    if (!s) return std::nullopt;
    auto r = parse_status(*s);
    if (!r) set_error(std::string(name) + " must be one of complete, partial, error");
    return r;
  }
  std::optional<TimeMs> time(std::string_view name) {
    auto s = string(name);
    if (!s) return std::nullopt;
    auto t = parse_time(*s);
    if (!t) set_error(std::string(name) + " is not an RFC 3339 time");
    return t;
  }
  void require(std::string_view name) {
    if (!find(name)) set_error("missing field \"" + std::string(name) + "\"");
  }

  bool ok() const { return !error_; }
  Error error() const { return *error_; }
  void set_error(std::string message) {
    if (!error_) error_ = make_error(code_, std::move(message));
  }

 private:
  std::nullopt_t fail(std::string_view name, const char* what) {
    set_error(std::string(name) + " must be " + what);
    return std::nullopt;
  }

  const json::object& obj_;
  ErrorCode code_;
  std::optional<Error> error_;
};

json::value optional_string(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

void append_key(std::string& out, std::string_view key) {
  out.push_back('"');
  out.append(key);
  out.append("\":");
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ptr);
}

void append_optional(std::string& out, const std::optional<std::string>& s) {
  if (s)
    append_json_string(out, *s);
  else
    out.append("null");
}

void append_chat_fields(std::string& out, const Chat& c) {
  append_key(out, "id");
  append_json_string(out, c.id);
  out.append(",\"number\":");
  append_int(out, c.number);
  out.append(",\"owner\":");
  append_json_string(out, c.owner);
  out.append(",\"username\":");
  append_optional(out, c.username);
  out.append(",\"title\":");
  append_json_string(out, c.title);
  out.append(",\"system_prompt\":");
  append_json_string(out, c.system_prompt);
  out.append(",\"settings\":");
  out.append(json::serialize(c.settings));
  out.append(",\"created_at\":\"");
  out.append(format_time(c.created_at));
  out.append("\",\"updated_at\":\"");
  out.append(format_time(c.updated_at));
  out.push_back('"');
}

void append_message(std::string& out, const Message& m) {
  out.push_back('{');
  append_key(out, "id");
  append_json_string(out, m.id);
  out.append(",\"number\":");
  append_int(out, m.number);
  out.append(",\"chat_id\":");
  append_json_string(out, m.chat_id);
  out.append(",\"role\":\"");
  out.append(to_string(m.role));
  out.append("\",\"content\":");
  append_json_string(out, m.content);
  out.append(",\"status\":\"");
  out.append(to_string(m.status));
  out.append("\",\"created_at\":\"");
  out.append(format_time(m.created_at));
  out.append("\",\"prompt_tokens\":");
  append_int(out, m.prompt_tokens);
  out.append(",\"completion_tokens\":");
  append_int(out, m.completion_tokens);
  out.append(",\"finish_reason\":");
  append_json_string(out, m.finish_reason);
  out.append(",\"client_key\":");
  append_optional(out, m.client_key);
  out.push_back('}');
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;  // the short escapes Boost.JSON writes: the same bytes as to_json
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

std::string render_json(const Chat& chat) {
  std::string out;
  out.reserve(256 + chat.title.size() + chat.system_prompt.size());
  out.push_back('{');
  append_chat_fields(out, chat);
  out.push_back('}');
  return out;
}

std::string render_json(const Message& message) {
  std::string out;
  out.reserve(320 + message.content.size());
  append_message(out, message);
  return out;
}

std::string render_json(const ChatWithMessages& c) {
  size_t size = 320 + c.chat.title.size() + c.chat.system_prompt.size();
  for (const auto& m : c.messages) size += 320 + m.content.size() + m.content.size() / 8;
  std::string out;
  out.reserve(size);
  out.push_back('{');
  append_chat_fields(out, c.chat);
  out.append(",\"messages\":[");
  for (size_t i = 0; i < c.messages.size(); ++i) {
    if (i) out.push_back(',');
    append_message(out, c.messages[i]);
  }
  out.append("],\"version\":");
  append_int(out, c.version);
  out.push_back('}');
  return out;
}

std::string render_json(const ChatPage& page) {
  std::string out;
  out.reserve(64 + 320 * page.chats.size());
  out.append("{\"chats\":[");
  for (size_t i = 0; i < page.chats.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('{');
    append_chat_fields(out, page.chats[i]);
    out.push_back('}');
  }
  out.append("],\"next_cursor\":");
  append_optional(out, page.next_cursor);
  out.push_back('}');
  return out;
}

json::object to_json(const Chat& c) {
  return json::object{{"id", c.id},
                      {"number", c.number},
                      {"owner", c.owner},
                      {"username", optional_string(c.username)},
                      {"title", c.title},
                      {"system_prompt", c.system_prompt},
                      {"settings", c.settings},
                      {"created_at", format_time(c.created_at)},
                      {"updated_at", format_time(c.updated_at)}};
}

json::object to_json(const Message& m) {
  return json::object{{"id", m.id},
                      {"number", m.number},
                      {"chat_id", m.chat_id},
                      {"role", to_string(m.role)},
                      {"content", m.content},
                      {"status", to_string(m.status)},
                      {"created_at", format_time(m.created_at)},
                      {"prompt_tokens", m.prompt_tokens},
                      {"completion_tokens", m.completion_tokens},
                      {"finish_reason", m.finish_reason},
                      {"client_key", optional_string(m.client_key)}};
}

json::object to_json(const ChatWithMessages& c) {
  json::object out = to_json(c.chat);
  json::array messages;
  messages.reserve(c.messages.size());
  for (const auto& m : c.messages) messages.push_back(to_json(m));
  out["messages"] = std::move(messages);
  out["version"] = c.version;
  return out;
}

json::object to_json(const ChatPage& page) {
  json::array chats;
  for (const auto& c : page.chats) chats.push_back(to_json(c));
  return json::object{{"chats", std::move(chats)}, {"next_cursor", optional_string(page.next_cursor)}};
}

Result<NewMessage> parse_new_message(const json::object& body) {
  Fields f(body, ErrorCode::invalid_argument);
  if (auto s = f.check_known({"role", "content", "status", "prompt_tokens", "completion_tokens", "finish_reason",
                              "client_key"});
      !s)
    return s.error();
  f.require("role");
  f.require("content");
  NewMessage m;
  if (auto r = f.role("role")) m.role = *r;
  if (auto c = f.string("content")) m.content = std::move(*c);
  if (auto s = f.status("status")) m.status = *s;
  if (auto n = f.integer("prompt_tokens")) m.prompt_tokens = *n;
  if (auto n = f.integer("completion_tokens")) m.completion_tokens = *n;
  if (auto s = f.string("finish_reason")) m.finish_reason = std::move(*s);
  m.client_key = f.string("client_key");
  if (!f.ok()) return f.error();
  return m;
}

Result<NewChat> parse_new_chat(const json::object& body) {
  Fields f(body, ErrorCode::invalid_argument);
  if (auto s = f.check_known({"title", "system_prompt", "settings", "username", "messages"}); !s) return s.error();
  NewChat c;
  if (auto s = f.string("title")) c.title = std::move(*s);
  if (auto s = f.string("system_prompt")) c.system_prompt = std::move(*s);
  if (auto o = f.object("settings")) c.settings = std::move(*o);
  c.username = f.string("username");
  if (const json::array* messages = f.array("messages")) {
    for (size_t i = 0; i < messages->size(); ++i) {
      const json::value& v = (*messages)[i];
      if (!v.is_object()) return invalid("messages[" + std::to_string(i) + "] must be an object");
      auto m = parse_new_message(v.get_object());
      if (!m) return invalid("messages[" + std::to_string(i) + "]: " + m.error().message);
      c.messages.push_back(std::move(m.value()));
    }
  }
  if (!f.ok()) return f.error();
  return c;
}

Result<ChatPatch> parse_chat_patch(const json::object& body) {
  Fields f(body, ErrorCode::invalid_argument);
  if (auto s = f.check_known({"title", "system_prompt", "settings"}); !s) return s.error();
  ChatPatch p;
  p.title = f.string("title");
  p.system_prompt = f.string("system_prompt");
  p.settings = f.object("settings");
  if (!f.ok()) return f.error();
  return p;
}

Result<MessagePatch> parse_message_patch(const json::object& body) {
  Fields f(body, ErrorCode::invalid_argument);
  if (auto s = f.check_known({"content", "status", "prompt_tokens", "completion_tokens", "finish_reason"}); !s)
    return s.error();
  MessagePatch p;
  p.content = f.string("content");
  p.status = f.status("status");
  p.prompt_tokens = f.integer("prompt_tokens");
  p.completion_tokens = f.integer("completion_tokens");
  p.finish_reason = f.string("finish_reason");
  if (!f.ok()) return f.error();
  return p;
}

json::object to_json(const NewMessage& m) {
  json::object o{{"role", to_string(m.role)},
                 {"content", m.content},
                 {"status", to_string(m.status)},
                 {"prompt_tokens", m.prompt_tokens},
                 {"completion_tokens", m.completion_tokens},
                 {"finish_reason", m.finish_reason}};
  if (m.client_key) o["client_key"] = *m.client_key;
  return o;
}

json::object to_json(const NewChat& c) {
  json::object o{{"title", c.title}, {"system_prompt", c.system_prompt}, {"settings", c.settings}};
  if (c.username) o["username"] = *c.username;
  if (!c.messages.empty()) {
    json::array messages;
    for (const auto& m : c.messages) messages.push_back(to_json(m));
    o["messages"] = std::move(messages);
  }
  return o;
}

json::object to_json(const ChatPatch& p) {
  json::object o;
  if (p.title) o["title"] = *p.title;
  if (p.system_prompt) o["system_prompt"] = *p.system_prompt;
  if (p.settings) o["settings"] = *p.settings;
  return o;
}

json::object to_json(const MessagePatch& p) {
  json::object o;
  if (p.content) o["content"] = *p.content;
  if (p.status) o["status"] = to_string(*p.status);
  if (p.prompt_tokens) o["prompt_tokens"] = *p.prompt_tokens;
  if (p.completion_tokens) o["completion_tokens"] = *p.completion_tokens;
  if (p.finish_reason) o["finish_reason"] = *p.finish_reason;
  return o;
}

Result<Chat> parse_chat(const json::object& o) {
  Fields f(o, ErrorCode::internal);
  for (auto name : {"id", "number", "owner", "title", "system_prompt", "created_at", "updated_at"}) f.require(name);
  Chat c;
  c.id = f.string("id").value_or("");
  c.number = f.integer("number").value_or(0);
  c.owner = f.string("owner").value_or("");
  c.username = f.string("username");
  c.title = f.string("title").value_or("");
  c.system_prompt = f.string("system_prompt").value_or("");
  c.settings = f.object("settings").value_or(json::object{});
  c.created_at = f.time("created_at").value_or(0);
  c.updated_at = f.time("updated_at").value_or(0);
  if (!f.ok()) return make_error(ErrorCode::internal, "malformed chat from db-api: " + f.error().message);
  return c;
}

Result<Message> parse_message(const json::object& o) {
  Fields f(o, ErrorCode::internal);
  for (auto name : {"id", "number", "chat_id", "role", "content", "status", "created_at"}) f.require(name);
  Message m;
  m.id = f.string("id").value_or("");
  m.number = f.integer("number").value_or(0);
  m.chat_id = f.string("chat_id").value_or("");
  m.role = f.role("role").value_or(Role::user);
  m.content = f.string("content").value_or("");
  m.status = f.status("status").value_or(MessageStatus::complete);
  m.created_at = f.time("created_at").value_or(0);
  m.prompt_tokens = f.integer("prompt_tokens").value_or(0);
  m.completion_tokens = f.integer("completion_tokens").value_or(0);
  m.finish_reason = f.string("finish_reason").value_or("");
  m.client_key = f.string("client_key");
  if (!f.ok()) return make_error(ErrorCode::internal, "malformed message from db-api: " + f.error().message);
  return m;
}

Result<ChatWithMessages> parse_chat_with_messages(const json::object& o) {
  auto chat = parse_chat(o);
  if (!chat) return chat.error();
  ChatWithMessages out{std::move(chat.value()), {}};
  auto it = o.find("messages");
  if (it == o.end() || !it->value().is_array()) return make_error(ErrorCode::internal, "malformed chat from db-api: no messages");
  for (const auto& v : it->value().get_array()) {
    if (!v.is_object()) return make_error(ErrorCode::internal, "malformed message from db-api");
    auto m = parse_message(v.get_object());
    if (!m) return m.error();
    out.messages.push_back(std::move(m.value()));
  }
  if (auto v = o.find("version"); v != o.end() && v->value().is_int64()) out.version = v->value().get_int64();
  return out;
}

Result<ChatPage> parse_chat_page(const json::object& o) {
  ChatPage page;
  auto it = o.find("chats");
  if (it == o.end() || !it->value().is_array()) return make_error(ErrorCode::internal, "malformed page from db-api");
  for (const auto& v : it->value().get_array()) {
    if (!v.is_object()) return make_error(ErrorCode::internal, "malformed chat from db-api");
    auto c = parse_chat(v.get_object());
    if (!c) return c.error();
    page.chats.push_back(std::move(c.value()));
  }
  auto cur = o.find("next_cursor");
  if (cur != o.end() && cur->value().is_string()) page.next_cursor = std::string(cur->value().get_string());
  return page;
}

}  // namespace parley::store::wire
