// Decoding of OpenAI-protocol request bodies (/v1/chat/completions, /v1/completions) into a
// GenerationInput. Fields the server does not use are ignored, as OpenAI clients send many; fields
// it uses must have the right type and range (400 with a message naming the field otherwise).
#pragma once

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "llm/generator.hpp"

namespace parley::services::lmapi {

enum class Endpoint { chat, completions };

struct OpenAiRequest {
  llm::GenerationInput input;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

Result<OpenAiRequest> decode_request(Endpoint endpoint, const boost::json::object& body);

}  // namespace parley::services::lmapi
