#include "services/lmapi/openai_request.hpp"

#include <boost/json.hpp>
#include <cmath>

namespace parley::services::lmapi {
namespace json = boost::json;
namespace {

Error bad(std::string message) { return make_error(ErrorCode::invalid_argument, std::move(message)); }

// A number field, or an error naming it. Absent or null: nullopt.
Result<std::optional<double>> number(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<double>();
  const json::value& v = it->value();
  if (v.is_double()) {
    if (!std::isfinite(v.get_double())) return bad(std::string(key) + " must be a finite number");
    return std::optional<double>(v.get_double());
  }
  if (v.is_int64()) return std::optional<double>(static_cast<double>(v.get_int64()));
  if (v.is_uint64()) return std::optional<double>(static_cast<double>(v.get_uint64()));
  return bad(std::string(key) + " must be a number");
}

Result<std::optional<int64_t>> integer(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>();
  const json::value& v = it->value();
  if (v.is_int64()) return std::optional<int64_t>(v.get_int64());
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return std::optional<int64_t>(static_cast<int64_t>(v.get_uint64()));
  if (v.is_double() && std::floor(v.get_double()) == v.get_double() && std::abs(v.get_double()) < 9e15)
    return std::optional<int64_t>(static_cast<int64_t>(v.get_double()));
  return bad(std::string(key) + " must be an integer");
}

Result<std::optional<bool>> boolean(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<bool>();
  if (!it->value().is_bool()) return bad(std::string(key) + " must be true or false");
  return std::optional<bool>(it->value().get_bool());
}

// Message content: a string, or an array of parts of which the text parts are joined.
Result<std::string> content_text(const json::value& v, size_t index) {
  const std::string where = "messages[" + std::to_string(index) + "].content";
  if (v.is_null()) return std::string();
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_array()) {
    std::string out;
    for (const json::value& part : v.get_array()) {
      if (!part.is_object()) return bad(where + " parts must be objects");
      const json::object& p = part.get_object();
      auto type = p.find("type");
      if (type == p.end() || !type->value().is_string()) return bad(where + " parts need a type");
      if (type->value().get_string() != "text") return bad(where + ": only text parts are supported");
      auto text = p.find("text");
      if (text == p.end() || !text->value().is_string()) return bad(where + " text parts need a text string");
      out += text->value().get_string();
    }
    return out;
  }
  return bad(where + " must be a string or an array of text parts");
}

Result<std::vector<llm::ChatTurn>> messages(const json::object& body) {
  auto it = body.find("messages");
  if (it == body.end()) return bad("messages is required");
  if (!it->value().is_array()) return bad("messages must be an array");
  const json::array& arr = it->value().get_array();
  if (arr.empty()) return bad("messages must not be empty");
  std::vector<llm::ChatTurn> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_object()) return bad("messages[" + std::to_string(i) + "] must be an object");
    const json::object& m = arr[i].get_object();
    auto role = m.find("role");
    if (role == m.end() || !role->value().is_string())
      return bad("messages[" + std::to_string(i) + "].role must be a string");
    std::string r(role->value().get_string());
    if (r == "developer") r = "system";
    if (r != "system" && r != "user" && r != "assistant")
      return bad("messages[" + std::to_string(i) + "].role must be system, user or assistant (got '" + r + "')");
    auto content = m.find("content");
    if (content == m.end()) return bad("messages[" + std::to_string(i) + "].content is required");
    auto text = content_text(content->value(), i);
    if (!text) return text.error();
    out.push_back({std::move(r), std::move(*text)});
  }
  return out;
}

}  // namespace

Result<OpenAiRequest> decode_request(Endpoint endpoint, const json::object& body) {
  OpenAiRequest r;
  llm::GenerationOptions& o = r.input.options;
  if (endpoint == Endpoint::chat) {
    auto m = messages(body);
    if (!m) return m.error();
    r.input.messages = std::move(*m);
  } else {
    auto it = body.find("prompt");
    if (it == body.end()) return bad("prompt is required");
    const json::value& p = it->value();
    if (p.is_string()) {
      r.input.prompt = std::string(p.get_string());
    } else if (p.is_array() && p.get_array().size() == 1 && p.get_array()[0].is_string()) {
      r.input.prompt = std::string(p.get_array()[0].get_string());
    } else {
      return bad("prompt must be a string (or an array of one string)");
    }
    if (r.input.prompt->empty()) return bad("prompt must not be empty");
  }

  auto n = integer(body, "n");
  if (!n) return n.error();
  if (*n && **n != 1) return bad("n must be 1: this server returns one choice per request");

  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto v = integer(body, key);
    if (!v) return v.error();
    if (*v) {
      if (**v < 1) return bad(std::string(key) + " must be at least 1");
      o.max_tokens = **v;
    }
  }
  struct Num {
    const char* key;
    std::optional<double>* dst;
  };
  std::optional<double> repeat_alias;
  for (Num f : {Num{"temperature", &o.temperature}, Num{"top_p", &o.top_p}, Num{"min_p", &o.min_p},
                Num{"presence_penalty", &o.presence_penalty}, Num{"frequency_penalty", &o.frequency_penalty},
                Num{"repetition_penalty", &o.repetition_penalty}, Num{"repeat_penalty", &repeat_alias}}) {
    auto v = number(body, f.key);
    if (!v) return v.error();
    if (*v) *f.dst = **v;
  }
  if (!o.repetition_penalty && repeat_alias) o.repetition_penalty = repeat_alias;
  auto top_k = integer(body, "top_k");
  if (!top_k) return top_k.error();
  if (*top_k) {
    if (**top_k < 0 || **top_k > 1000000) return bad("top_k must be between 0 and 1000000");
    o.top_k = static_cast<int>(**top_k);
  }
  auto seed = integer(body, "seed");
  if (!seed) return seed.error();
  if (*seed) o.seed = static_cast<uint64_t>(**seed);

  if (auto it = body.find("stop"); it != body.end() && !it->value().is_null()) {
    const json::value& s = it->value();
    if (s.is_string()) {
      o.stop.emplace_back(s.get_string());
    } else if (s.is_array()) {
      for (const json::value& e : s.get_array()) {
        if (!e.is_string()) return bad("stop must be a string or an array of strings");
        o.stop.emplace_back(e.get_string());
      }
    } else {
      return bad("stop must be a string or an array of strings");
    }
  }
  auto stream = boolean(body, "stream");
  if (!stream) return stream.error();
  r.stream = stream->value_or(false);
  if (auto it = body.find("stream_options"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return bad("stream_options must be an object");
    auto usage = boolean(it->value().get_object(), "include_usage");
    if (!usage) return usage.error();
    r.include_usage = usage->value_or(false);
  }
  // Parley's extension: drop the oldest turns instead of failing when the chat is too long.
  auto truncate = boolean(body, "truncate_history");
  if (!truncate) return truncate.error();
  r.input.truncate_history = truncate->value_or(false);
  return r;
}

}  // namespace parley::services::lmapi
