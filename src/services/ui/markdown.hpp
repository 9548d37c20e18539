// Markdown and HTML text for the pages.
//
//   std::string html = render_markdown("**hi** <script>");   // "<p><strong>hi</strong> &lt;script&gt;</p>\n"
//   append_escaped(out, title);                               // & < > " ' escaped for text and attributes
//
// render_markdown uses md4c (CommonMark + tables, strikethrough, autolinks) with raw HTML off
// (MD_FLAG_NOHTML): tags typed by a user come out as text. Link and image URLs are checked after
// rendering: any scheme other than http, https and mailto (javascript:, data:, vbscript:...) becomes
// "#". Cost: linear in the input, about 1 us per 100 bytes.
#pragma once

#include <string>
#include <string_view>

namespace parley::services::ui {

std::string render_markdown(std::string_view markdown);
void append_escaped(std::string& out, std::string_view text);
std::string escape_html(std::string_view text);

// True when a URL (as it appears in an href/src attribute of md4c output) is safe to keep: no
// scheme (relative, #fragment) or one of http, https, mailto.
bool is_safe_url(std::string_view url);

}  // namespace parley::services::ui
