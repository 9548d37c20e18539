#include "llm/chat/chat_template.hpp"

namespace parley::llm::chat {

std::string_view family_name(TemplateFamily f) {
  switch (f) {
    case TemplateFamily::chatml:
      return "chatml";
    case TemplateFamily::llama3:
      return "llama3";
    case TemplateFamily::llama2:
      return "llama2";
    case TemplateFamily::mistral:
      return "mistral";
    case TemplateFamily::gemma:
      return "gemma";
    case TemplateFamily::phi3:
      return "phi3";
    case TemplateFamily::zephyr:
      return "zephyr";
  }
  return "?";
}

namespace {

ChatTemplate make(TemplateFamily family, std::string name) {
  ChatTemplate t;
  t.family = family;
  t.name = std::move(name);
  switch (family) {
    case TemplateFamily::chatml:
      t.end_of_turn = {"<|im_end|>"};
      break;
    case TemplateFamily::llama3:
      t.end_of_turn = {"<|eot_id|>", "<|eom_id|>"};
      break;
    case TemplateFamily::llama2:
    case TemplateFamily::mistral:
      t.end_of_turn = {"</s>"};
      break;
    case TemplateFamily::gemma:
      t.end_of_turn = {"<end_of_turn>"};
      break;
    case TemplateFamily::phi3:
      t.end_of_turn = {"<|end|>", "<|endoftext|>"};
      break;
    case TemplateFamily::zephyr:
      t.end_of_turn = {"<|endoftext|>"};
      break;
  }
  return t;
}

constexpr std::string_view kBuiltinNames[] = {
    "chatml",     "llama3",         "llama2",
    "llama2-sys", "llama2-sys-bos", "llama2-sys-strip",
    "mistral-v1", "mistral-v3",     "mistral-v3-tekken",
    "mistral-v7", "gemma",          "phi3",
    "zephyr",
};

bool has(std::string_view text, std::string_view marker) {
  return text.find(marker) != std::string_view::npos;
}

// Undoes the escapes of a Jinja string literal that matter here (\n, \t, \', \", \\).
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char c = s[++i];
      out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The literal system prompt a ChatML template prints when the conversation has none:
// '<|im_start|>system\n<literal text><|im_end|>' inside one string literal.
std::string chatml_default_system(std::string_view jinja) {
  static constexpr std::string_view kOpen = "<|im_start|>system";
  for (size_t pos = jinja.find(kOpen); pos != std::string_view::npos; pos = jinja.find(kOpen, pos + 1)) {
    size_t b = pos + kOpen.size();
    if (jinja.compare(b, 2, "\\n") == 0) {
      b += 2;
    } else if (b < jinja.size() && jinja[b] == '\n') {
      b += 1;
    } else {
      continue;
    }
    const size_t e = jinja.find("<|im_end|>", b);
    if (e == std::string_view::npos) continue;
    const std::string_view body = jinja.substr(b, e - b);
    if (body.empty() || body.find_first_of("'\"{}+") != std::string_view::npos) continue;  // not one literal
    return unescape(body);
  }
  return {};
}

// The text after `marker` up to the end of the line (a literal "\n" or a newline) or a quote.
std::string literal_after(std::string_view jinja, std::string_view marker) {
  const size_t pos = jinja.find(marker);
  if (pos == std::string_view::npos) return {};
  const size_t b = pos + marker.size();
  size_t e = b;
  while (e < jinja.size() && jinja[e] != '\n' && jinja[e] != '"' && jinja[e] != '\'' &&
         jinja.compare(e, 2, "\\n") != 0) {
    ++e;
  }
  return std::string(jinja.substr(b, e - b));
}

}  // namespace

std::vector<std::string_view> builtin_template_names() {
  return {std::begin(kBuiltinNames), std::end(kBuiltinNames)};
}

std::optional<ChatTemplate> builtin_template(std::string_view name) {
  if (name == "chatml") return make(TemplateFamily::chatml, "chatml");
  if (name == "llama3") return make(TemplateFamily::llama3, "llama3");
  if (name.starts_with("llama2")) {
    ChatTemplate t = make(TemplateFamily::llama2, std::string(name));
    if (name == "llama2") return t;
    t.llama2_sys_block = true;
    if (name == "llama2-sys") return t;
    if (name == "llama2-sys-bos") {
      t.llama2_bos_between_turns = true;
      return t;
    }
    if (name == "llama2-sys-strip") {
      t.llama2_strip = true;
      return t;
    }
    return std::nullopt;
  }
  if (name.starts_with("mistral-")) {
    ChatTemplate t = make(TemplateFamily::mistral, std::string(name));
    if (name == "mistral-v1") {
      t.mistral_version = 1;
    } else if (name == "mistral-v3") {
      t.mistral_version = 3;
    } else if (name == "mistral-v3-tekken") {
      t.mistral_version = 3;
      t.mistral_tekken = true;
      t.mistral_system_before_last_user = true;  // as the official v3-tekken templates (Nemo) do
    } else if (name == "mistral-v7") {
      t.mistral_version = 7;
    } else {
      return std::nullopt;
    }
    return t;
  }
  if (name == "gemma") {
    ChatTemplate t = make(TemplateFamily::gemma, "gemma");
    t.fold_system = "\n\n";
    return t;
  }
  if (name == "phi3") return make(TemplateFamily::phi3, "phi3");
  if (name == "zephyr") return make(TemplateFamily::zephyr, "zephyr");
  return std::nullopt;
}

std::optional<ChatTemplate> detect_template(std::string_view j) {
  std::optional<ChatTemplate> t;
  if (has(j, "<|im_start|>")) {
    t = make(TemplateFamily::chatml, "chatml");
    t->default_system = chatml_default_system(j);
  } else if (has(j, "[INST]")) {
    if (has(j, "[SYSTEM_PROMPT]")) {
      t = builtin_template("mistral-v7");
    } else if (has(j, "[AVAILABLE_TOOLS]") || has(j, "' [INST] ' + system_message")) {
      if (has(j, "\"[INST]\"") || has(j, "'[INST]'")) {
        t = builtin_template("mistral-v3-tekken");
      } else if (has(j, " [INST]")) {
        t = builtin_template("mistral-v1");
      } else {
        t = builtin_template("mistral-v3");
      }
      t->mistral_system_before_last_user = has(j, "loop.last and system_message");
    } else {
      t = builtin_template("llama2");
      t->llama2_sys_block = has(j, "<<SYS>>");
      t->llama2_bos_between_turns = has(j, "bos_token + '[INST]") || has(j, "bos_token + \"[INST]");
      t->llama2_strip = has(j, "content.strip()") || has(j, "content | trim") || has(j, "content|trim");
      if (t->llama2_sys_block) t->name = "llama2-sys";
    }
  } else if (has(j, "<|start_header_id|>") && has(j, "<|end_header_id|>")) {
    t = make(TemplateFamily::llama3, "llama3");
    if (has(j, "Cutting Knowledge Date: ")) {
      t->date_header = true;
      t->knowledge_cutoff = literal_after(j, "Cutting Knowledge Date: ");
      if (!has(j, "strftime_now")) t->fixed_date = literal_after(j, "set date_string = \"");
    }
  } else if (has(j, "<start_of_turn>")) {
    t = builtin_template("gemma");
    // Gemma 1/2 templates raise an error for a system message; the reference engine's Jinja path
    // then folds it into the first user message with a single newline.
    if (has(j, "System role not supported")) t->fold_system = "\n";
  } else if (has(j, "<|assistant|>") && has(j, "<|end|>")) {
    t = make(TemplateFamily::phi3, "phi3");
  } else if (has(j, "<|user|>") && has(j, "<|endoftext|>")) {
    t = make(TemplateFamily::zephyr, "zephyr");
  }
  // A template that never mentions a system role drops the system message; fold it instead.
  if (t && !t->fold_system && !has(j, "system")) t->fold_system = "\n";
  return t;
}

Result<ChatTemplate> select_template(std::string_view override_name, std::string_view jinja) {
  if (!override_name.empty()) {
    if (auto t = builtin_template(override_name)) return *t;
    std::string names;
    for (std::string_view n : kBuiltinNames) names += (names.empty() ? "" : ", ") + std::string(n);
    return make_error(ErrorCode::invalid_argument,
                      "unknown chat template '" + std::string(override_name) + "' (known: " + names + ")");
  }
  if (auto t = detect_template(jinja)) return *t;
  ChatTemplate t = make(TemplateFamily::chatml, "chatml");
  t.fallback = true;
  return t;
}

std::string format_date(std::chrono::year_month_day day) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const unsigned d = static_cast<unsigned>(day.day());
  const unsigned m = static_cast<unsigned>(day.month());
  std::string out;
  out += static_cast<char>('0' + d / 10);
  out += static_cast<char>('0' + d % 10);
  out += ' ';
  out += kMonths[(m >= 1 && m <= 12) ? m - 1 : 0];
  out += ' ';
  out += std::to_string(static_cast<int>(day.year()));
  return out;
}

}  // namespace parley::llm::chat
