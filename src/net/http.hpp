// Small HTTP vocabulary shared by the server and the client, free of Beast/Asio includes.
//
//   parley::net::Method m = parley::net::parse_method("PATCH");    // Method::patch
//   std::string_view s = parley::net::method_name(m);               // "PATCH"
//   parley::net::Headers h{{"Retry-After", "2"}};
//   std::string_view reason = parley::net::status_reason(404);      // "Not Found"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::net {

enum class Method : uint8_t { get, head, post, put, patch, delete_, options, other };
inline constexpr int kMethodCount = 8;

std::string_view method_name(Method m);
Method parse_method(std::string_view name);  // exact, upper case; anything else is Method::other
// GET, HEAD, PUT, DELETE, OPTIONS: a repeat has the same effect as one request (RFC 9110 9.2.2).
bool is_idempotent(Method m);

struct Header {
  std::string name;
  std::string value;
};
using Headers = std::vector<Header>;

// The value of the first header with this name (ASCII case-insensitive), "" when absent.
std::string_view find_header(const Headers& headers, std::string_view name);

std::string_view status_reason(int status);
bool iequals(std::string_view a, std::string_view b);

// Percent-decoding of a path segment or query component; '+' becomes a space when plus_is_space.
// Malformed escapes are kept as they are.
std::string percent_decode(std::string_view s, bool plus_is_space = false);
// Percent-encoding of everything but RFC 3986 unreserved characters (for query values, segments).
std::string percent_encode(std::string_view s);

}  // namespace parley::net
