// The properties the lm-api request fuzz target checks (lmapi_request_fuzz), shared with the
// regression tests (tests/services/fuzz_regressions_test.cpp).
//
// Input: byte 0 picks the endpoint (even: /v1/chat/completions, odd: /v1/completions), the rest is
// the request body. A body that is a JSON object is either rejected with invalid_argument and a
// message, or accepted with: chat -> at least one message, every role system/user/assistant;
// completions -> a non-empty prompt and no messages; max_tokens >= 1; temperature, top_p, min_p and
// the penalties finite; top_k in [0, 1e6]. An accepted request written back as JSON (what the
// OpenAI HTTP Generator sends upstream) decodes to the same request.
#pragma once

#include <boost/json.hpp>
#include <cmath>
#include <string>

#include "fuzz/fuzz_input.hpp"
#include "services/lmapi/openai_request.hpp"

namespace parley::fuzz {

namespace lmapi = parley::services::lmapi;

inline boost::json::object encode_openai_request(lmapi::Endpoint endpoint, const lmapi::OpenAiRequest& r) {
  namespace json = boost::json;
  json::object o;
  const auto& in = r.input;
  const auto& opt = in.options;
  if (endpoint == lmapi::Endpoint::chat) {
    json::array ms;
    for (const auto& m : in.messages) ms.push_back(json::object{{"role", m.role}, {"content", m.content}});
    o["messages"] = std::move(ms);
  } else {
    o["prompt"] = *in.prompt;
  }
  if (opt.max_tokens) o["max_tokens"] = *opt.max_tokens;
  if (opt.temperature) o["temperature"] = *opt.temperature;
  if (opt.top_p) o["top_p"] = *opt.top_p;
  if (opt.min_p) o["min_p"] = *opt.min_p;
  if (opt.presence_penalty) o["presence_penalty"] = *opt.presence_penalty;
  if (opt.frequency_penalty) o["frequency_penalty"] = *opt.frequency_penalty;
  if (opt.repetition_penalty) o["repetition_penalty"] = *opt.repetition_penalty;
  if (opt.top_k) o["top_k"] = *opt.top_k;
  if (opt.seed) o["seed"] = static_cast<int64_t>(*opt.seed);
  json::array stop;
  for (const auto& s : opt.stop) stop.push_back(json::string(s));
  o["stop"] = std::move(stop);
  o["stream"] = r.stream;
  o["stream_options"] = json::object{{"include_usage", r.include_usage}};
  o["truncate_history"] = in.truncate_history;
  return o;
}

inline bool same_request(const lmapi::OpenAiRequest& a, const lmapi::OpenAiRequest& b) {
  const auto &x = a.input, &y = b.input;
  if (x.messages.size() != y.messages.size() || x.prompt != y.prompt) return false;
  for (size_t i = 0; i < x.messages.size(); ++i)
    if (x.messages[i].role != y.messages[i].role || x.messages[i].content != y.messages[i].content) return false;
  const auto &p = x.options, &q = y.options;
  return p.temperature == q.temperature && p.top_p == q.top_p && p.top_k == q.top_k && p.min_p == q.min_p &&
         p.presence_penalty == q.presence_penalty && p.frequency_penalty == q.frequency_penalty &&
         p.repetition_penalty == q.repetition_penalty && p.max_tokens == q.max_tokens && p.seed == q.seed &&
         p.stop == q.stop && a.stream == b.stream && a.include_usage == b.include_usage &&
         x.truncate_history == y.truncate_history;
}

inline std::string check_lmapi_input(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const auto endpoint = in.byte() % 2 == 0 ? lmapi::Endpoint::chat : lmapi::Endpoint::completions;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(in.rest(), ec);
  if (ec || !v.is_object()) return {};  // lm-api answers 400 before decoding
  auto r = lmapi::decode_request(endpoint, v.get_object());
  if (!r) {
    if (r.error().code != ErrorCode::invalid_argument) return "decode_request answered other than invalid_argument";
    if (r.error().message.empty()) return "decode_request gave an empty message";
    return {};
  }
  const auto& input = r->input;
  if (endpoint == lmapi::Endpoint::chat) {
    if (input.messages.empty() || input.prompt) return "a chat request without messages, or with a prompt";
    for (const auto& m : input.messages)
      if (m.role != "system" && m.role != "user" && m.role != "assistant") return "accepted role '" + preview(m.role) + "'";
  } else if (!input.prompt || input.prompt->empty() || !input.messages.empty()) {
    return "a completion request without a prompt, or with messages";
  }
  const auto& o = input.options;
  if (o.max_tokens && *o.max_tokens < 1) return "accepted max_tokens < 1";
  for (const auto& x : {o.temperature, o.top_p, o.min_p, o.presence_penalty, o.frequency_penalty, o.repetition_penalty})
    if (x && !std::isfinite(*x)) return "accepted a number that is not finite";
  if (o.top_k && (*o.top_k < 0 || *o.top_k > 1'000'000)) return "accepted top_k outside [0, 1e6]";
  auto again = lmapi::decode_request(endpoint, encode_openai_request(endpoint, *r));
  if (!again) return "the accepted request written back is rejected: " + again.error().message;
  if (!same_request(*r, *again)) return "the accepted request written back decodes differently";
  return {};
}

}  // namespace parley::fuzz
