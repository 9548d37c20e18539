#include "llm/chat/chat_template.hpp"

#include <gtest/gtest.h>

#include "llm/tokenizer/vocab_files.hpp"

namespace parley::llm::chat {
namespace {

using namespace std::chrono;

const std::vector<ChatMessage> kSys = {
    {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Why?"}};
const std::vector<ChatMessage> kNoSys = {{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Why?"}};

std::string must_render(const ChatTemplate& t, const std::vector<ChatMessage>& ms, RenderOptions o = {}) {
  auto r = render(t, ms, o);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : std::string();
}

TEST(ChatTemplate, SelectByOverrideNameDetectionOrFallback) {
  auto t = select_template("llama3", "<|im_start|>");  // the override wins over the text
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->family, TemplateFamily::llama3);
  EXPECT_FALSE(t->fallback);

  t = select_template("", "{{ '<start_of_turn>' + role }}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->family, TemplateFamily::gemma);

  t = select_template("", "");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->family, TemplateFamily::chatml);
  EXPECT_TRUE(t->fallback);

  t = select_template("vicuna", "");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(t.error().message.find("'vicuna'"), std::string::npos);
  EXPECT_NE(t.error().message.find("mistral-v7"), std::string::npos);

  for (std::string_view name : builtin_template_names()) EXPECT_TRUE(builtin_template(name)) << name;
  EXPECT_FALSE(builtin_template("llama2-foo"));
  EXPECT_FALSE(builtin_template("mistral-v9"));
}

TEST(ChatTemplate, UnknownRoleIsAnError) {
  const std::vector<ChatMessage> ms = {{"tool", "42"}};
  auto r = render(*builtin_template("chatml"), ms);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'tool'"), std::string::npos);
}

TEST(ChatTemplate, WithoutGenerationPrompt) {
  RenderOptions o;
  o.add_generation_prompt = false;
  EXPECT_EQ(must_render(*builtin_template("chatml"), {{"user", "Hi"}}, o),
            "<|im_start|>user\nHi<|im_end|>\n");
  EXPECT_EQ(must_render(*builtin_template("gemma"), {{"user", "Hi"}}, o),
            "<start_of_turn>user\nHi<end_of_turn>\n");
}

TEST(ChatTemplate, EndOfTurnStrings) {
  EXPECT_EQ(builtin_template("chatml")->end_of_turn, std::vector<std::string>{"<|im_end|>"});
  EXPECT_EQ(builtin_template("llama3")->end_of_turn.front(), "<|eot_id|>");
  EXPECT_EQ(builtin_template("mistral-v7")->end_of_turn, std::vector<std::string>{"</s>"});
  EXPECT_EQ(builtin_template("gemma")->end_of_turn, std::vector<std::string>{"<end_of_turn>"});
  EXPECT_EQ(builtin_template("phi3")->end_of_turn.front(), "<|end|>");
  EXPECT_EQ(builtin_template("zephyr")->end_of_turn, std::vector<std::string>{"<|endoftext|>"});
}

TEST(ChatTemplate, DateFormattingAndToday) {
  EXPECT_EQ(format_date(2026y / November / 27d), "27 Nov 2026");
  EXPECT_EQ(format_date(2024y / July / 5d), "05 Jul 2024");
  const std::string jinja =
      "{{- \"Cutting Knowledge Date: December 2023\\n\" }}{%- set date_string = strftime_now(\"%d %b %Y\") %}"
      "<|start_header_id|>system<|end_header_id|>";
  const auto t = detect_template(jinja);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->date_header);
  EXPECT_EQ(t->knowledge_cutoff, "December 2023");
  const std::string today = format_date(year_month_day{floor<days>(system_clock::now())});
  const std::string out = must_render(*t, kNoSys);
  EXPECT_NE(out.find("Today Date: " + today + "\n\n<|eot_id|>"), std::string::npos) << out;
}

TEST(ChatTemplate, Llama31TemplateKeepsItsOwnDate) {
  // Llama 3.1 prints a fixed date unless one is passed in.
  const std::string jinja =
      "{%- if not date_string is defined %}\n    {%- set date_string = \"26 Jul 2024\" %}\n{%- endif %}\n"
      "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- "
      "endif %}"
      "{{- \"Cutting Knowledge Date: December 2023\\n\" }}{{- \"Today Date: \" + date_string + \"\\n\\n\" }}"
      "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}";
  const auto t = detect_template(jinja);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->fixed_date, "26 Jul 2024");
  EXPECT_EQ(must_render(*t, kSys, {.today = 2026y / November / 27d}),
            "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
            "Today Date: 26 Jul 2024\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nWhy?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, ChatmlDefaultSystemPromptFromTheTemplate) {
  // SmolLM2's template.
  const std::string smol =
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
      "'<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
      "Face<|im_end|>\n' }}{% "
      "endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% "
      "endfor %}";
  const auto t = detect_template(smol);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->family, TemplateFamily::chatml);
  EXPECT_EQ(t->default_system, "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  EXPECT_EQ(
      must_render(*t, {{"user", "Hi"}}),
      "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
      "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(must_render(*t, {{"system", "S"}, {"user", "Hi"}}),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  // A plain ChatML template has none.
  EXPECT_EQ(
      detect_template("{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'}}")
          ->default_system,
      "");
}

TEST(ChatTemplate, TemplateWithoutSystemRoleFoldsTheSystemMessage) {
  // Phi-3-mini-4k's template ignores system messages; the system text goes into the first user turn.
  const auto& phi = parley::llm::tokenizer::testing::vocab_tokenizer("phi-3");
  const auto t = detect_template(phi.vocab().chat_template);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->family, TemplateFamily::phi3);
  EXPECT_EQ(
      must_render(*t, kSys),
      "<|user|>\nBe brief.\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\nWhy?<|end|>\n<|assistant|>\n");
}

TEST(ChatTemplate, MistralV3OfficialTemplatePutsSystemBeforeLastUser) {
  const std::string v3 =
      "{%- for message in loop_messages %}{%- if message[\"role\"] == \"user\" %}{%- if tools is not none "
      "and "
      "(message == user_messages[-1]) %}{{- \"[AVAILABLE_TOOLS] [\" }}{%- endif %}{%- if loop.last and "
      "system_message is defined %}{{- \"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + "
      "\"[/INST]\" }}{%- else %}{{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}{%- endif %}{%- elif "
      "message[\"role\"] == \"assistant\" %}{{- \" \" + message[\"content\"]|trim + eos_token}}{%- endif %}";
  const auto t = detect_template(v3);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->family, TemplateFamily::mistral);
  EXPECT_EQ(t->name, "mistral-v3");
  EXPECT_TRUE(t->mistral_system_before_last_user);
  EXPECT_EQ(must_render(*t, kSys), "[INST] Hi[/INST] Hello!</s>[INST] Be brief.\n\nWhy?[/INST]");
}

TEST(ChatTemplate, Llama2TemplateDetection) {
  const std::string llama2 =
      "{% if messages[0]['role'] == 'system' %}{% set system_message = messages[0]['content'] %}{% endif %}"
      "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
      "'\\n<</SYS>>\\n\\n' + message['content'] %}{% endif %}{{ bos_token + '[INST] ' + content.strip() + ' "
      "[/INST]' }}";
  const auto t = detect_template(llama2);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->family, TemplateFamily::llama2);
  EXPECT_TRUE(t->llama2_sys_block);
  EXPECT_TRUE(t->llama2_bos_between_turns);
  EXPECT_EQ(must_render(*t, kSys),
            "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]Hello!</s><s>[INST] Why? [/INST]");
}

TEST(ChatTemplate, StopTokenIdsAndTokenizedPrompt) {
  const auto& qwen = parley::llm::tokenizer::testing::vocab_tokenizer("qwen2-reconstructed");
  auto t = select_template("", qwen.vocab().chat_template);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->fallback);
  const auto stops = stop_token_ids(*t, qwen);
  EXPECT_NE(std::find(stops.begin(), stops.end(), 151645), stops.end());  // <|im_end|>
  EXPECT_NE(std::find(stops.begin(), stops.end(), 151643), stops.end());  // <|endoftext|>
  EXPECT_EQ(std::find(stops.begin(), stops.end(), 151644), stops.end());  // <|im_start|>

  const std::string prompt = must_render(*t, kNoSys);
  const auto ids = qwen.encode(prompt, true, true);
  EXPECT_EQ(ids.front(), 151644);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151644), 5);  // default system + 3 turns + generation prompt
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151645), 4);

  const auto& l3 = parley::llm::tokenizer::testing::vocab_tokenizer("llama-bpe-reconstructed");
  const auto l3_stops = stop_token_ids(*builtin_template("llama3"), l3);
  EXPECT_NE(std::find(l3_stops.begin(), l3_stops.end(), 128009), l3_stops.end());  // <|eot_id|>
}

}  // namespace
}  // namespace parley::llm::chat
