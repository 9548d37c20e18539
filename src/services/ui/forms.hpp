// Reading browser requests: application/x-www-form-urlencoded bodies and the Cookie header.
//
//   Form form = parse_form(req.body());          // "a=1&b=x+y" -> {a:"1", b:"x y"}
//   std::string_view title = form.get("title");  // "" when absent
//   std::string_view c = cookie_value(req.header("Cookie"), "parley_session");
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::services::ui {

class Form {
 public:
  // The first value of the field, "" when absent.
  std::string_view get(std::string_view name) const;
  std::optional<std::string_view> find(std::string_view name) const;
  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

Form parse_form(std::string_view body);

// The value of a cookie in a Cookie request header; "" when absent.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace parley::services::ui
