#include "tools/plan/costs.hpp"

#include <boost/json.hpp>
#include <stdexcept>

namespace parley::tools::plan {

PriceTable PriceTable::defaults() {
  PriceTable t;
  t.prices_ = {{"load_balancer", 18}, {"registry", 19},      {"postgres", 13},
               {"ui_replica", 10},    {"dbapi_replica", 10}, {"lm_replica", 50}};
  return t;
}

void PriceTable::load_json(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object())
    throw std::runtime_error("price table: expected a JSON object of item: dollars per month");
  for (const auto& kv : v.as_object()) {
    if (!kv.value().is_number())
      throw std::runtime_error("price table: " + std::string(kv.key()) + " is not a number");
    prices_[std::string(kv.key())] = kv.value().to_number<double>();
  }
}

void PriceTable::set_from_assignment(const std::string& a) {
  auto eq = a.find('=');
  if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--price wants item=dollars, got " + a);
  size_t used = 0;
  double v = std::stod(a.substr(eq + 1), &used);
  if (used != a.size() - eq - 1) throw std::invalid_argument("--price wants item=dollars, got " + a);
  prices_[a.substr(0, eq)] = v;
}

double PriceTable::get(const std::string& item) const {
  auto it = prices_.find(item);
  return it == prices_.end() ? 0.0 : it->second;
}

std::string PriceTable::replica_item(const std::string& role) {
  if (role == "lm-api") return "lm_replica";
  if (role == "db-api") return "dbapi_replica";
  return "ui_replica";
}

}  // namespace parley::tools::plan
