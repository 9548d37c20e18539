// Pre-tokenizers of byte-level BPE vocabularies: split text into the "words" BPE merges within.
// Each is the hand-written equivalent of the regex its model was trained with, evaluated over code
// points (leftmost alternative wins, as in PCRE / Oniguruma):
//   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//           \s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2:  as llama3, with \p{N} (one digit per word) instead of \p{N}{1,3}
//   smollm: every \p{N} alone, then gpt2 on the text between digits
// Ill-formed UTF-8 bytes count as one "other" character each, so the words always tile the input.
// Cost: O(n) in the input length plus one range lookup per non-ASCII code point.
#pragma once

#include <string_view>
#include <vector>

namespace parley::llm::tokenizer {

enum class PreTokenizer { gpt2, llama3, qwen2, smollm };

// tokenizer.ggml.pre -> pre-tokenizer: "llama-bpe"/"llama3"/"llama-v3" -> llama3, "qwen2" -> qwen2,
// "smollm" -> smollm; anything else ("gpt-2", "default", unknown names) -> gpt2.
PreTokenizer pre_tokenizer_from_name(std::string_view name);
std::string_view pre_tokenizer_name(PreTokenizer p);

// The words of `text` in order (views into `text`; their concatenation is `text`).
std::vector<std::string_view> pre_tokenize(PreTokenizer p, std::string_view text);

}  // namespace parley::llm::tokenizer
