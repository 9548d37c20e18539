// Chat templates: a conversation (system / user / assistant messages) -> the prompt text a model was
// trained on, plus the end-of-turn strings that stop its reply.
//
// No Jinja engine: a model's `tokenizer.chat_template` is recognized by distinctive markers
// (<|im_start|>, <|start_header_id|>, [INST], <start_of_turn>, <|assistant|> + <|end|>, ...) as one
// of the families below, and the variant details a real template adds are read from its text too
// (Qwen2.5's default system prompt, Llama 3.1+'s knowledge-cutoff and date header, Mistral templates
// that put the system message before the last user message, templates without a system role).
// builtin_template(name) gives the reference engine's built-in formatters by name, as an override.
//
// The rendered text holds no BOS (the tokenizer adds it) and is tokenized with parse_special = true.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "llm/tokenizer/tokenizer.hpp"

namespace parley::llm::chat {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

enum class TemplateFamily { chatml, llama3, llama2, mistral, gemma, phi3, zephyr };
std::string_view family_name(TemplateFamily f);

struct ChatTemplate {
  TemplateFamily family = TemplateFamily::chatml;
  std::string name;  // the built-in name this behaves like ("chatml", "llama3", "mistral-v3-tekken", ...)
  bool fallback = false;  // select_template could not recognize the template and chose chatml

  // All families: when set, the template has no system role and the system message is put before
  // the first user message's content, joined by this separator (Gemma: "\n\n"; real templates that
  // reject or ignore a system message: "\n", as the reference engine's Jinja path does).
  std::optional<std::string> fold_system;
  // chatml: the system message used when the conversation has none (Qwen2.5, SmolLM2); "" for none.
  std::string default_system;
  // llama3: a system block is always printed with "Cutting Knowledge Date: <cutoff>\nToday Date:
  // <date>\n\n" before the system message (Llama 3.1 / 3.2 templates). fixed_date: the template's own
  // date (e.g. "26 Jul 2024") when it does not read today's date; "" = today.
  bool date_header = false;
  std::string knowledge_cutoff = "December 2023";
  std::string fixed_date;
  // llama2: "<<SYS>>\n...\n<</SYS>>\n\n" around the system message (else "system\n"), "<s>" before
  // every later [INST], contents stripped of surrounding whitespace.
  bool llama2_sys_block = false;
  bool llama2_bos_between_turns = false;
  bool llama2_strip = false;
  // mistral: 1 (" [INST] ... [/INST]"), 3 ("[INST] ...[/INST]"), 7 ([SYSTEM_PROMPT]); tekken: no
  // spaces at all; system_before_last_user: the system message goes into the last user turn.
  int mistral_version = 3;
  bool mistral_tekken = false;
  bool mistral_system_before_last_user = false;

  // Texts that end an assistant turn (<|im_end|>, <|eot_id|>, </s>, <end_of_turn>, <|end|>, ...): the
  // engine stops at the tokens with these texts (and at the vocabulary's end-of-generation tokens).
  std::vector<std::string> end_of_turn;
};

// The built-in formatters: chatml, llama3, llama2, llama2-sys, llama2-sys-bos, llama2-sys-strip,
// mistral-v1, mistral-v3, mistral-v3-tekken, mistral-v7, gemma, phi3, zephyr.
std::optional<ChatTemplate> builtin_template(std::string_view name);
std::vector<std::string_view> builtin_template_names();

// Recognizes a Jinja chat template (tokenizer.chat_template). nullopt when no family matches.
std::optional<ChatTemplate> detect_template(std::string_view jinja);

// The template to use: `override_name` (a built-in name) when not empty, else the detected family
// of `jinja`, else chatml with fallback = true. Error (invalid_argument) for an unknown override.
Result<ChatTemplate> select_template(std::string_view override_name, std::string_view jinja);

struct RenderOptions {
  bool add_generation_prompt = true;  // end with the opening of the assistant's turn
  // "Today" for templates that print the date (Llama 3.1+); default: the current UTC date.
  std::optional<std::chrono::year_month_day> today;
};

// Renders the conversation. Error (invalid_argument) for a role other than system / user /
// assistant. Cost: O(total content length).
Result<std::string> render(const ChatTemplate& tmpl, std::span<const ChatMessage> messages,
                           const RenderOptions& options = {});

// The tokens generation stops at: the tokens whose text is one of tmpl.end_of_turn, plus the
// vocabulary's end-of-generation tokens (eos, eot, ...). Sorted, unique.
std::vector<tokenizer::TokenId> stop_token_ids(const ChatTemplate& tmpl, const tokenizer::Tokenizer& tok);

// "27 Nov 2026" (strftime "%d %b %Y").
std::string format_date(std::chrono::year_month_day day);

}  // namespace parley::llm::chat
