// Inputs the fuzz targets (tests/fuzz/, scripts/fuzz) found in the engine's text code (chat
// templates, tokenizers), replayed through the same property checks, plus a deterministic test of
// each fixed bug.
#include <gtest/gtest.h>

#include <string>

#include "fuzz/chat_template_fuzz_check.hpp"

namespace parley::fuzz {
namespace {

// chat_template_fuzz crash-e22e487b: mistral-v3-tekken holds system messages for the last user turn;
// one that came after the last user turn was held and never written (its content vanished).
TEST(FuzzRegressions, MistralSystemMessageAfterTheLastUserTurnIsKept) {
  auto tmpl = chat::builtin_template("mistral-v3-tekken");
  ASSERT_TRUE(tmpl);
  const std::vector<chat::ChatMessage> messages = {
      {"system", "first system"}, {"user", "question"}, {"system", "late system"}, {"assistant", "answer"}};
  auto text = chat::render(*tmpl, messages);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_NE(text->find("late system"), std::string::npos) << *text;
  EXPECT_NE(text->find("first system\n\nquestion"), std::string::npos) << *text;
}

TEST(FuzzRegressions, ChatTemplateCrashInputHoldsItsProperties) {
  const std::string input(
      "\x08\x1e\x83\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x5b\x49\x01\x75\x00"
      "You ldo <\x1e\x01u\x1e |im_end|>\x1e\x02Hi!\x1e<|ass\x00\x00\x00&\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00)j",
      77);
  EXPECT_EQ(check_chat_template_input(reinterpret_cast<const uint8_t*>(input.data()), input.size()), "");
}

}  // namespace
}  // namespace parley::fuzz
