// Presenting a load-test Summary: a text table, JSON (the input of `parley plan`), an SVG plot.
//
//   print_summary(stdout, options, summary, extras);
//   std::string j = summary_json(options, summary, extras);     // one JSON object
//   std::string svg = timeline_svg(options, summary);           // latency p50/p90/p99 + throughput per
//   second
#pragma once

#include <cstdio>
#include <string>

#include "tools/loadtest/runner.hpp"
#include "tools/loadtest/stats.hpp"

namespace parley::tools::loadtest {

// Facts about the run beyond the recorder's: the generator's own cost.
struct RunExtras {
  double cpu_s = 0;          // CPU seconds the load tester used
  uint64_t connections = 0;  // TCP connections it opened
  bool interrupted = false;
};

void print_summary(std::FILE* out, const LoadOptions& o, const Summary& s, const RunExtras& x);
std::string summary_json(const LoadOptions& o, const Summary& s, const RunExtras& x);
std::string timeline_svg(const LoadOptions& o, const Summary& s);

}  // namespace parley::tools::loadtest
