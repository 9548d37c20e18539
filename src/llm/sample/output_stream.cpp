#include "llm/sample/output_stream.hpp"

#include <algorithm>

namespace parley::llm::sample {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::none:
      return "";
    case FinishReason::stop:
      return "stop";
    case FinishReason::length:
      return "length";
  }
  return "";
}

OutputStream::OutputStream(tokenizer::Tokenizer tokenizer, StopConfig config)
    : detok_(std::move(tokenizer), config.detokenizer),
      matcher_(std::move(config.stop_strings)),
      stop_tokens_(std::move(config.stop_tokens)),
      max_tokens_(config.max_tokens) {
  std::sort(stop_tokens_.begin(), stop_tokens_.end());
}

std::string OutputStream::drain() {
  StopStringMatcher::Output tail = matcher_.push(detok_.finish());
  if (tail.stopped) {
    finish_ = FinishReason::stop;
    return tail.text;
  }
  return tail.text + matcher_.flush();
}

OutputStream::Step OutputStream::push(TokenId id) {
  Step step;
  if (finish_ != FinishReason::none) {
    step.finish = finish_;
    return step;
  }
  ++n_tokens_;
  if (std::binary_search(stop_tokens_.begin(), stop_tokens_.end(), id)) {
    step.text = drain();
    finish_ = step.finish = FinishReason::stop;
    return step;
  }
  StopStringMatcher::Output out = matcher_.push(detok_.push(id));
  step.text = std::move(out.text);
  if (out.stopped) {
    finish_ = FinishReason::stop;
  } else if (max_tokens_ >= 0 && n_tokens_ >= max_tokens_) {
    finish_ = FinishReason::length;
    step.text += drain();  // may still find a stop string in the tail
  }
  step.finish = finish_;
  return step;
}

std::string OutputStream::finish() {
  if (finish_ != FinishReason::none) return {};
  std::string text = drain();
  if (finish_ == FinishReason::none) finish_ = FinishReason::length;
  return text;
}

}  // namespace parley::llm::sample
