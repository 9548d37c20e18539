#include "net/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "net/json_numbers.hpp"

namespace parley::net {

Result<boost::json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return make_error(ErrorCode::invalid_argument, "request body is not valid JSON: " + ec.message());
  if (!finite_json_numbers(v))
    return make_error(ErrorCode::invalid_argument, "request body has a number out of range (beyond 1.7e308)");
  return v;
}

Result<boost::json::value> parse_json_body(const Request& req) {
  if (req.body().empty()) return make_error(ErrorCode::invalid_argument, "request body is empty, JSON expected");
  return parse_json(req.body());
}

Result<boost::json::object> parse_json_object(const Request& req) {
  auto v = parse_json_body(req);
  if (!v) return v.error();
  if (!v->is_object()) return make_error(ErrorCode::invalid_argument, "request body must be a JSON object");
  return std::move(v->as_object());
}

Response json_response(int status, const boost::json::value& value) {
  return Response::json(status, boost::json::serialize(value));
}

}  // namespace parley::net
