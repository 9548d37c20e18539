#include <gtest/gtest.h>

#include <regex>

#include "services/ui/markdown.hpp"
#include "services/ui/markdown_cache.hpp"
#include "services/ui/page_template.hpp"
#include "services/ui/web_assets.hpp"

namespace parley::services::ui {
namespace {

bool has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

TEST(UiMarkdown, RendersTheCommonElements) {
  std::string html = render_markdown("Hello **bold** and `code`\n\n- one\n- two\n\n```\nint x = 1 < 2;\n```\n\n[site](https://example.com/a?b=1&c=2)");
  EXPECT_TRUE(has(html, "<strong>bold</strong>"));
  EXPECT_TRUE(has(html, "<code>code</code>"));
  EXPECT_TRUE(has(html, "<li>one</li>"));
  EXPECT_TRUE(has(html, "<pre><code>int x = 1 &lt; 2;\n</code></pre>"));
  EXPECT_TRUE(has(html, "<a href=\"https://example.com/a?b=1&amp;c=2\">site</a>"));
}

TEST(UiMarkdown, RawHtmlIsText) {
  std::string html = render_markdown("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> and <b>b</b>");
  EXPECT_FALSE(has(html, "<script"));
  EXPECT_FALSE(has(html, "<img"));
  EXPECT_FALSE(has(html, "<b>"));
  EXPECT_TRUE(has(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_TRUE(has(html, "&lt;img src=x onerror=alert(1)&gt;"));
}

TEST(UiMarkdown, UnsafeUrlSchemesAreRemoved) {
  for (const char* md : {"[x](javascript:alert(1))", "[x](JavaScript:alert(1))", "[x](java\tscript:alert(1))",
                         "[x](data:text/html,<script>alert(1)</script>)", "[x](vbscript:msgbox)",
                         "![i](javascript:alert(1))", "<javascript:alert(1)>", "[x](&#106;avascript:alert(1))"}) {
    std::string html = render_markdown(md);
    static const std::regex unsafe(R"re((href|src)="[^"]*(script|data):)re", std::regex::icase);
    EXPECT_FALSE(std::regex_search(html, unsafe)) << md << " -> " << html;
  }
  EXPECT_TRUE(has(render_markdown("[x](/chats)"), "href=\"/chats\""));
  EXPECT_TRUE(has(render_markdown("[x](mailto:a@b.c)"), "href=\"mailto:a@b.c\""));
  EXPECT_TRUE(has(render_markdown("[x](#top)"), "href=\"#top\""));
}

TEST(UiMarkdown, QuotesInTextCannotOpenAnAttribute) {
  std::string html = render_markdown("a\" href=\"javascript:alert(1)\" [x](https://ok.example/\" onclick=\"x)");
  EXPECT_FALSE(has(html, "href=\"javascript:"));
  EXPECT_FALSE(has(html, "\" onclick"));
  EXPECT_TRUE(has(html, "&quot;"));
}

TEST(UiMarkdown, EscapingAndTemplates) {
  EXPECT_EQ(escape_html("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  PageTemplate t("<p title=\"{{t}}\">{{t}}</p>{{{raw}}}{{missing}}.");
  EXPECT_EQ(t.render({{"t", "<x\">"}, {"raw", "<b>ok</b>"}}), "<p title=\"&lt;x&quot;&gt;\">&lt;x&quot;&gt;</p><b>ok</b>.");
  EXPECT_THROW(PageTemplate("{{oops"), std::invalid_argument);
}

TEST(UiMarkdown, WebFilesAreEmbedded) {
  const WebAsset* css = find_web_asset("static/app.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_TRUE(has(std::string(css->data), ".msg"));
  EXPECT_EQ(css->version.size(), 16u);
  ASSERT_NE(find_web_asset("static/app.js"), nullptr);
  ASSERT_NE(find_web_asset("templates/chat.html"), nullptr);
  EXPECT_EQ(find_web_asset("static/../templates/chat.html"), nullptr);
}

}  // namespace
}  // namespace parley::services::ui

namespace parley::services::ui {
namespace {

TEST(UiMarkdownCache, MemoizesByKeyAndNoticesNewContent) {
  MarkdownCache cache(64);
  EXPECT_EQ(cache.render("msg_a", "**one**"), render_markdown("**one**"));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.render("msg_a", "**one**"), render_markdown("**one**"));
  EXPECT_EQ(cache.render("msg_a", "*two*"), render_markdown("*two*")) << "regenerated content renders afresh";
  for (int i = 0; i < 1000; ++i) cache.render("msg_" + std::to_string(i), "x");
  EXPECT_LE(cache.size(), 64u + 16u) << "bounded";
}

}  // namespace
}  // namespace parley::services::ui
