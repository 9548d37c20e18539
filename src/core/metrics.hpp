// Metrics: a registry of Prometheus counters, gauges and histograms (prometheus-cpp core) and its
// text exposition (format 0.0.4), which every service serves at /metrics.
//
//   auto& m = parley::Metrics::global();
//   prometheus::Counter& done = m.counter("parley_lm_requests_total", "Requests finished", {{"status", "ok"}});
//   done.Increment();
//   prometheus::Histogram& ttft = m.histogram("parley_lm_ttft_seconds", "Time to first token",
//                                             parley::Metrics::latency_buckets());
//   ttft.Observe(0.084);
//   std::string body = m.render();   // "# HELP ...\n# TYPE ...\nparley_lm_requests_total{status=\"ok\"} 1\n"
//
// Look a series up once and keep the reference: counter()/gauge()/histogram() take a mutex and
// hash the labels; Increment/Set are atomics, Observe takes a short per-histogram mutex.
// The same name with the same labels returns the same series. Returned references live as long as
// the Metrics object.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace parley {

class Metrics {
 public:
  using Labels = std::map<std::string, std::string>;

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The process-wide registry that servers expose by default.
  static Metrics& global();

  prometheus::Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  prometheus::Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  prometheus::Histogram& histogram(const std::string& name, const std::string& help,
                                   const std::vector<double>& buckets, const Labels& labels = {});

  // Prometheus text exposition of every series (Content-Type: text/plain; version=0.0.4).
  std::string render() const;

  prometheus::Registry& registry();

  // Upper bounds in seconds from 0.5 ms to 60 s, for request latencies and streams.
  static std::vector<double> latency_buckets();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley
