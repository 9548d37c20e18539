// Numbers Boost.JSON 1.81 reads wrongly: a zero mantissa with an exponent beyond the double range
// ("0e400") comes out as NaN, and a number too large for a double ("1e400") as infinity. Neither
// can be written back as JSON (serialize prints "NaN"), so a settings object holding one would be
// stored and then served as invalid JSON. finite_json_numbers repairs the first (the value is 0)
// and reports the second, so requests get a clear 400.
#pragma once

#include <boost/json/value.hpp>
#include <cmath>

namespace parley::net {

// Walks `v`: NaN becomes 0 (the only way the parser makes one is 0 times a huge power of ten,
// keeping the sign of the literal is not needed: -0 and 0 compare equal). Returns false when a
// number is infinite (out of the double range); `v` is then partly repaired and must be rejected.
inline bool finite_json_numbers(boost::json::value& v, int depth = 0) {
  if (depth > 64) return true;  // deeper than the parser's own limit: nothing left to look at
  switch (v.kind()) {
    case boost::json::kind::double_: {
      double& d = v.get_double();
      if (std::isnan(d)) d = 0.0;
      return std::isfinite(d);
    }
    case boost::json::kind::array:
      for (auto& e : v.get_array())
        if (!finite_json_numbers(e, depth + 1)) return false;
      return true;
    case boost::json::kind::object:
      for (auto& kv : v.get_object())
        if (!finite_json_numbers(kv.value(), depth + 1)) return false;
      return true;
    default:
      return true;
  }
}

}  // namespace parley::net
