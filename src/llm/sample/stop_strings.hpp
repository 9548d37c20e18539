// StopStringMatcher: finds stop strings in streamed text. Text that might be the beginning of a
// stop string is held back until the next piece decides; at a stop, the text is cut just before it.
// Cost per piece: O((held + piece) * number of stops) searching, plus O(max stop length^2 * number
// of stops) for the held-back suffix. Held text is at most (longest stop - 1) bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::llm::sample {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stops);  // empty strings are ignored

  struct Output {
    std::string text;      // safe to show now
    bool stopped = false;  // a stop string was found; text ends right before it
    std::string stop;      // which one
  };
  // Feeds the next piece of text. After a stop, further pieces return nothing.
  Output push(std::string_view piece);
  // End of the stream without a stop: the held-back text.
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  size_t max_len_ = 0;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace parley::llm::sample
