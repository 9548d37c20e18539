// render(): one function per family, each writing the format its vectors show
// (../shared/testdata/chat-templates/vectors.json).
#include <string>
#include <vector>

#include "llm/chat/chat_template.hpp"

namespace parley::llm::chat {

namespace {

enum class Role { system, user, assistant };

struct Msg {
  Role role;
  std::string_view role_name;
  std::string content;
};

std::string_view trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\n\r\f\v");
  return s.substr(b, e - b + 1);
}

std::string today_string(const RenderOptions& o) {
  if (o.today) return format_date(*o.today);
  return format_date(
      std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())});
}

// ChatML: <|im_start|>role\ncontent<|im_end|>\n
void render_chatml(const ChatTemplate& t, const std::vector<Msg>& ms, bool gen, std::string& out) {
  if (!t.default_system.empty() && (ms.empty() || ms[0].role != Role::system)) {
    out += "<|im_start|>system\n" + t.default_system + "<|im_end|>\n";
  }
  for (const Msg& m : ms)
    out.append("<|im_start|>").append(m.role_name).append("\n").append(m.content).append("<|im_end|>\n");
  if (gen) out += "<|im_start|>assistant\n";
}

// Llama 3: <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>, contents trimmed.
void render_llama3(const ChatTemplate& t, const std::vector<Msg>& ms, bool gen, const RenderOptions& o,
                   std::string& out) {
  auto turn = [&](std::string_view role, std::string_view content) {
    out.append("<|start_header_id|>")
        .append(role)
        .append("<|end_header_id|>\n\n")
        .append(content)
        .append("<|eot_id|>");
  };
  size_t first = 0;
  if (t.date_header) {
    std::string sys = "Cutting Knowledge Date: " + t.knowledge_cutoff +
                      "\nToday Date: " + (t.fixed_date.empty() ? today_string(o) : t.fixed_date) + "\n\n";
    if (!ms.empty() && ms[0].role == Role::system) {
      sys += trim(ms[0].content);
      first = 1;
    }
    turn("system", sys);
  }
  for (size_t i = first; i < ms.size(); ++i) turn(ms[i].role_name, trim(ms[i].content));
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
}

// Llama 2: [INST] (system) user [/INST]assistant</s>[INST] ...
void render_llama2(const ChatTemplate& t, const std::vector<Msg>& ms, std::string& out) {
  bool inside = false, first_turn = true;
  for (const Msg& m : ms) {
    const std::string_view c = t.llama2_strip ? trim(m.content) : std::string_view(m.content);
    if (!inside) {
      if (t.llama2_bos_between_turns && !first_turn) out += "<s>";
      out += "[INST] ";
      inside = true;
      first_turn = false;
    }
    switch (m.role) {
      case Role::system:
        if (t.llama2_sys_block) {
          out.append("<<SYS>>\n").append(c).append("\n<</SYS>>\n\n");
        } else {
          out.append(c).append("\n");
        }
        break;
      case Role::user:
        out.append(c).append(" [/INST]");
        break;
      case Role::assistant:
        out.append(c).append("</s>");
        inside = false;
        break;
    }
  }
}

// Mistral v1 / v3 / v3-tekken / v7.
void render_mistral(const ChatTemplate& t, const std::vector<Msg>& ms, std::string& out) {
  const int v = t.mistral_version;
  const bool tekken = t.mistral_tekken;
  const std::string open = v == 1 ? " [INST] " : tekken ? "[INST]" : "[INST] ";
  const std::string close = v == 1 ? " [/INST]" : "[/INST]";
  const std::string before_answer = tekken ? "" : " ";

  // System messages held back for the last user turn (templates that place it there).
  std::string held_system;
  size_t last_user = ms.size();
  if (t.mistral_system_before_last_user && v != 7) {
    for (size_t i = 0; i < ms.size(); ++i) {
      if (ms[i].role == Role::user) last_user = i;
    }
  }
  bool inside = false;
  for (size_t i = 0; i < ms.size(); ++i) {
    const Msg& m = ms[i];
    if (m.role == Role::system && v == 7) {
      out.append("[SYSTEM_PROMPT] ").append(m.content).append("[/SYSTEM_PROMPT]");
      continue;
    }
    // Held: those before the last user turn (a system message after it has no user turn left to
    // join and is written in place, as templates without the hold do).
    if (m.role == Role::system && last_user != ms.size() && i < last_user) {
      held_system.append(m.content).append("\n\n");
      continue;
    }
    if (!inside && m.role != Role::assistant) {
      out += open;
      inside = true;
    }
    switch (m.role) {
      case Role::system:
        out.append(m.content).append("\n\n");
        break;
      case Role::user:
        if (i == last_user) out += held_system;
        out.append(m.content).append(close);
        inside = false;
        break;
      case Role::assistant:
        out.append(before_answer)
            .append(v == 3 && !tekken ? trim(m.content) : std::string_view(m.content))
            .append("</s>");
        inside = false;
        break;
    }
  }
}

// Gemma: <start_of_turn>user|model\ncontent<end_of_turn>\n, contents trimmed.
void render_gemma(const std::vector<Msg>& ms, bool gen, std::string& out) {
  for (const Msg& m : ms) {
    out.append("<start_of_turn>").append(m.role == Role::assistant ? "model" : m.role_name).append("\n");
    out.append(trim(m.content)).append("<end_of_turn>\n");
  }
  if (gen) out += "<start_of_turn>model\n";
}

// Phi-3 (<|end|>) and zephyr (<|endoftext|>): <|role|>\ncontent<end>\n
void render_tagged(std::string_view end, bool skip_empty_system, const std::vector<Msg>& ms, bool gen,
                   std::string& out) {
  for (const Msg& m : ms) {
    if (skip_empty_system && m.role == Role::system && m.content.empty()) continue;
    out.append("<|").append(m.role_name).append("|>\n").append(m.content).append(end).append("\n");
  }
  if (gen) out += "<|assistant|>\n";
}

}  // namespace

Result<std::string> render(const ChatTemplate& t, std::span<const ChatMessage> messages,
                           const RenderOptions& o) {
  std::vector<Msg> ms;
  ms.reserve(messages.size());
  for (const ChatMessage& m : messages) {
    Role r;
    if (m.role == "system") {
      r = Role::system;
    } else if (m.role == "user") {
      r = Role::user;
    } else if (m.role == "assistant") {
      r = Role::assistant;
    } else {
      return make_error(ErrorCode::invalid_argument,
                        "unsupported message role '" + m.role + "' (use system, user or assistant)");
    }
    ms.push_back({r, m.role == "system" ? "system" : m.role == "user" ? "user" : "assistant", m.content});
  }

  if (t.fold_system) {
    // Fold each system message into the next user message; one left at the end becomes a user turn.
    std::vector<Msg> folded;
    std::string pending;
    bool has_pending = false;
    for (Msg& m : ms) {
      if (m.role == Role::system) {
        pending += (has_pending ? *t.fold_system : "") + std::string(trim(m.content));
        has_pending = true;
        continue;
      }
      if (m.role == Role::user && has_pending) {
        m.content = pending + *t.fold_system + m.content;
        has_pending = false;
        pending.clear();
      }
      folded.push_back(std::move(m));
    }
    if (has_pending) folded.push_back({Role::user, "user", pending});
    ms.swap(folded);
  }

  std::string out;
  const bool gen = o.add_generation_prompt;
  switch (t.family) {
    case TemplateFamily::chatml:
      render_chatml(t, ms, gen, out);
      break;
    case TemplateFamily::llama3:
      render_llama3(t, ms, gen, o, out);
      break;
    case TemplateFamily::llama2:
      render_llama2(t, ms, out);
      break;
    case TemplateFamily::mistral:
      render_mistral(t, ms, out);
      break;
    case TemplateFamily::gemma:
      render_gemma(ms, gen, out);
      break;
    case TemplateFamily::phi3:
      render_tagged("<|end|>", true, ms, gen, out);
      break;
    case TemplateFamily::zephyr:
      render_tagged("<|endoftext|>", false, ms, gen, out);
      break;
  }
  return out;
}

}  // namespace parley::llm::chat
