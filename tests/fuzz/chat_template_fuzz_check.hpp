// The properties the chat-template fuzz target checks (chat_template_fuzz), shared with the
// regression tests (tests/llm/fuzz_regressions_test.cpp).
//
// Input: byte 0 picks a built-in template (or, past the last one, a Jinja text up to the first \x1e
// that detect_template / select_template read); then messages separated by \x1e, each a role byte
// (0 system, 1 user, 2 assistant, 3 the role "tool", which is not allowed) and the content.
//   - select_template without an override always succeeds; unrecognized text means chatml with
//     fallback set; a built-in's own name selects it;
//   - render fails (invalid_argument) exactly when a role is not system / user / assistant;
//   - otherwise: the same input renders the same text; the text without the generation prompt is a
//     prefix of the text with it; every message's content (without surrounding whitespace) is in
//     the text, and the user / assistant contents appear in conversation order.
#pragma once

#include <string>
#include <vector>

#include "fuzz/fuzz_input.hpp"
#include "llm/chat/chat_template.hpp"

namespace parley::fuzz {

namespace chat = parley::llm::chat;

inline std::string_view trim_ws(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\n\r\f\v") - b + 1);
}

inline std::string check_chat_template_input(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const auto names = chat::builtin_template_names();
  const size_t pick = in.byte();
  chat::ChatTemplate tmpl;
  if (pick < names.size()) {
    auto t = chat::builtin_template(names[pick]);
    if (!t) return "builtin_template does not know its own name " + std::string(names[pick]);
    auto sel = chat::select_template(names[pick], "");
    if (!sel || sel->name != t->name) return "select_template does not select the built-in " + std::string(names[pick]);
    tmpl = *t;
  } else {
    std::string_view jinja = in.until('\x1e');
    auto detected = chat::detect_template(jinja);
    auto sel = chat::select_template("", jinja);
    if (!sel) return "select_template without override failed: " + sel.error().message;
    if (!detected && (!sel->fallback || sel->family != chat::TemplateFamily::chatml))
      return "an unrecognized template is not chatml with fallback";
    if (detected && sel->fallback) return "a recognized template is marked fallback";
    tmpl = *sel;
  }
  std::vector<chat::ChatMessage> messages;
  bool bad_role = false;
  while (!in.empty()) {
    const uint8_t role = in.byte() % 4;
    std::string content(in.until('\x1e'));
    bad_role = bad_role || role == 3;
    messages.push_back({role == 0 ? "system" : role == 1 ? "user" : role == 2 ? "assistant" : "tool", std::move(content)});
  }
  chat::RenderOptions with_gen;
  with_gen.today = std::chrono::year_month_day{std::chrono::year{2026}, std::chrono::November, std::chrono::day{27}};
  chat::RenderOptions without_gen = with_gen;
  without_gen.add_generation_prompt = false;
  auto text = chat::render(tmpl, messages, with_gen);
  if (bad_role) {
    if (text) return "render accepted the role 'tool'";
    if (text.error().code != ErrorCode::invalid_argument) return "render failed with other than invalid_argument";
    return {};
  }
  if (!text) return "render failed for valid roles: " + text.error().message;
  auto again = chat::render(tmpl, messages, with_gen);
  if (!again || *again != *text) return "render is not deterministic";
  auto no_gen = chat::render(tmpl, messages, without_gen);
  if (!no_gen) return "render without generation prompt failed";
  if (!text->starts_with(*no_gen)) return "the text without the generation prompt is not a prefix of the text with it";
  size_t at = 0;
  for (const auto& m : messages) {
    std::string_view c = trim_ws(m.content);
    if (c.empty()) continue;
    if (m.role == "system") {
      if (text->find(c) == std::string::npos) return "the system message is missing: " + preview(c);
      continue;
    }
    size_t found = text->find(c, at);
    if (found == std::string::npos)
      return "the " + m.role + " message '" + preview(c) + "' is missing or out of order in " + preview(*text, 300);
    at = found + c.size();
  }
  return {};
}

}  // namespace parley::fuzz
