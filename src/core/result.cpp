#include "core/result.hpp"

namespace parley {

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return 400;
    case ErrorCode::unauthorized: return 401;
    case ErrorCode::forbidden: return 403;
    case ErrorCode::not_found: return 404;
    case ErrorCode::conflict: return 409;
    case ErrorCode::payload_too_large: return 413;
    case ErrorCode::rate_limited: return 429;
    case ErrorCode::unavailable: return 503;
    case ErrorCode::internal: return 500;
  }
  return 500;
}

const char* error_type(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
    case ErrorCode::payload_too_large:
    case ErrorCode::not_found:
    case ErrorCode::conflict: return "invalid_request_error";
    case ErrorCode::unauthorized: return "authentication_error";
    case ErrorCode::forbidden: return "permission_error";
    case ErrorCode::rate_limited: return "rate_limit_error";
    case ErrorCode::unavailable: return "unavailable_error";
    case ErrorCode::internal: return "server_error";
  }
  return "server_error";
}

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::unauthorized: return "unauthorized";
    case ErrorCode::forbidden: return "forbidden";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::payload_too_large: return "payload_too_large";
    case ErrorCode::rate_limited: return "rate_limited";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::internal: return "internal_error";
  }
  return "internal_error";
}

}  // namespace parley
