// Every built-in family renders its vector exactly, and every real template is recognized as its
// family and renders what the reference engine's Jinja rendering gave
// (../shared/testdata/chat-templates/vectors.json, rendered on 2026-11-27).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "llm/chat/chat_template.hpp"

namespace parley::llm::chat {
namespace {

namespace json = boost::json;
using namespace std::chrono;

const json::object& vectors() {
  static const json::value v = [] {
    std::ifstream in(std::string(PARLEY_SHARED_DIR) + "/testdata/chat-templates/vectors.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
  }();
  return v.as_object();
}

std::vector<ChatMessage> conversation(const char* which) {
  std::vector<ChatMessage> out;
  for (const auto& m : vectors().at("conversations").at(which).as_array()) {
    out.push_back({std::string(m.at("role").as_string()), std::string(m.at("content").as_string())});
  }
  return out;
}

RenderOptions on_vector_date() { return {.add_generation_prompt = true, .today = 2026y / November / 27d}; }

TEST(ChatTemplateVectors, EveryBuiltinFamilyRendersItsVector) {
  const auto& builtin = vectors().at("builtin").as_object();
  EXPECT_EQ(builtin.size(), 10u);
  for (const auto& [name, expected] : builtin) {
    SCOPED_TRACE(std::string(name));
    const auto tmpl = builtin_template(name);
    ASSERT_TRUE(tmpl) << "no builtin " << name;
    for (const char* which : {"sys", "nosys"}) {
      const auto got = render(*tmpl, conversation(which), on_vector_date());
      ASSERT_TRUE(got.ok()) << got.error().message;
      EXPECT_EQ(*got, std::string(expected.at(which).as_string())) << which;
    }
  }
}

TEST(ChatTemplateVectors, EveryRealTemplateIsRecognizedAndRendersItsVector) {
  const std::map<std::string, TemplateFamily> families = {
      {"Qwen-Qwen2.5-7B-Instruct", TemplateFamily::chatml},
      {"meta-llama-Llama-3.2-3B-Instruct", TemplateFamily::llama3},
      {"microsoft-Phi-3.5-mini-instruct", TemplateFamily::phi3},
      {"google-gemma-2-2b-it", TemplateFamily::gemma},
      {"mistralai-Mistral-Nemo-Instruct-2407", TemplateFamily::mistral},
  };
  const auto& files = vectors().at("template_files").as_object();
  EXPECT_EQ(files.size(), families.size());
  for (const auto& [model, entry] : files) {
    SCOPED_TRACE(std::string(model));
    const auto tmpl = detect_template(entry.at("template").as_string());
    ASSERT_TRUE(tmpl) << "not recognized";
    ASSERT_TRUE(families.count(std::string(model)));
    EXPECT_EQ(tmpl->family, families.at(std::string(model))) << family_name(tmpl->family);
    for (const char* which : {"sys", "nosys"}) {
      const auto got = render(*tmpl, conversation(which), on_vector_date());
      ASSERT_TRUE(got.ok()) << got.error().message;
      EXPECT_EQ(*got, std::string(entry.at(which).as_string())) << which;
    }
  }
}

}  // namespace
}  // namespace parley::llm::chat
