// Pages: the HTML of the UI, from the templates of web/templates (embedded in the binary).
//
//   Pages pages("tiny-model");
//   std::string html = pages.chat(chat_with_messages, session.csrf, notice_html);
//   std::string li = pages.message(stored_message);          // one <li> (also sent over SSE)
//
// Every user-supplied string is escaped by the templates; message content goes through
// render_markdown (raw HTML off, unsafe URL schemes removed).
//
// The message list of a chat page is kept per chat (bounded LRU) with the chat's version and a hash
// of what the list shows (ids, roles, statuses, contents: a caller may have added or dropped a
// message in memory): while both match, a page is that list plus the layout.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "services/ui/markdown_cache.hpp"
#include "services/ui/page_template.hpp"
#include "store/chat_store.hpp"
#include "store/versioned_cache.hpp"

namespace parley::services::ui {

class Pages {
 public:
  // Throws std::runtime_error when a template is missing from the embedded files.
  explicit Pages(std::string model_label);

  std::string home(const store::ChatPage& page, std::string_view csrf) const;
  std::string chat(const store::ChatWithMessages& chat, std::string_view csrf, std::string_view notice_html) const;
  std::string message(const store::Message& message) const;
  std::string error(std::string_view heading, std::string_view message, std::string_view back) const;
  // A notice paragraph (kind: "error" or "info").
  std::string notice(std::string_view kind, std::string_view message) const;

  static std::string_view status_note(const store::Message& message);

 private:
  std::string layout(std::string_view title, const std::string& content) const;
  std::string message_list(const store::ChatWithMessages& chat) const;

  std::string model_label_;
  std::string_view css_version_, js_version_;
  PageTemplate layout_, home_, chat_item_, chat_, message_, notice_, error_;
  mutable MarkdownCache markdown_;  // rendered content of stored messages
  struct MessageList {
    uint64_t fingerprint;
    std::string html;
  };
  mutable store::VersionedCache<MessageList> message_lists_{8 << 20};  // by chat id
};

}  // namespace parley::services::ui
