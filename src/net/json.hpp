// Boost.JSON helpers for handlers.
//
//   auto body = parse_json_object(req);          // Result<boost::json::object>; 400 JSON error text
//   if (!body) co_return Response::error(body.error());
//   co_return json_response(201, {{"id", id}, {"title", title}});
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"
#include "net/request.hpp"
#include "net/response.hpp"

namespace parley::net {

// The body as JSON; invalid_argument ("request body is not valid JSON: ...") otherwise.
Result<boost::json::value> parse_json(std::string_view text);
Result<boost::json::value> parse_json_body(const Request& req);
// As above, and the top level must be an object.
Result<boost::json::object> parse_json_object(const Request& req);

Response json_response(int status, const boost::json::value& value);

}  // namespace parley::net
