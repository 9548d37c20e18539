// Result<T>: the value of an operation or an error the caller is expected to handle
// (not found, invalid input, conflict, overloaded). Failures that are not the caller's to handle
// (I/O, broken peers) are exceptions; invariants are assertions. See docs/architecture.md.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace parley {

enum class ErrorCode {
  invalid_argument,  // 400
  unauthorized,      // 401
  forbidden,         // 403
  not_found,         // 404
  conflict,          // 409
  payload_too_large, // 413
  rate_limited,      // 429
  unavailable,       // 503 (dependency down, overloaded)
  internal,          // 500
};

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
};

inline Error make_error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

// HTTP status for an error code; the one mapping every service uses.
int http_status(ErrorCode code);
// The OpenAI-style "type" string for an error code ("invalid_request_error", ...).
const char* error_type(ErrorCode code);
// Short machine code ("not_found", "unauthorized", ...).
const char* error_code_name(ErrorCode code);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace parley
