// Monthly cost of a deployment from an editable price table (US$ per month; replicas are billed
// linearly in replica-hours, 730 hours a month).
//
//   PriceTable prices = PriceTable::defaults();
//   prices.set("lm_replica", 60);               // --price lm_replica=60
//   prices.load_json(R"({"postgres": 25})");    // --prices FILE
#pragma once

#include <map>
#include <string>

namespace parley::tools::plan {

class PriceTable {
 public:
  // The original deployment article's figures: standard load balancer $18, standard container
  // registry $19, burstable B1MS PostgreSQL from $13, a 0.5 vCPU / 1 GiB container-app replica
  // about $10, the 2 vCPU / 4 GiB language-model app about $50 per replica (free grants aside).
  static PriceTable defaults();
  void set(const std::string& item, double usd_per_month) { prices_[item] = usd_per_month; }
  // {"item": dollars, ...}; throws std::runtime_error on anything else.
  void load_json(const std::string& text);
  // "item=dollars"; throws std::invalid_argument.
  void set_from_assignment(const std::string& assignment);
  double get(const std::string& item) const;  // 0 for unknown items
  const std::map<std::string, double>& items() const { return prices_; }
  // The price item of a role's replica: ui_replica, dbapi_replica, lm_replica.
  static std::string replica_item(const std::string& role);

 private:
  std::map<std::string, double> prices_;
};

}  // namespace parley::tools::plan
