#include "core/metrics.hpp"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

namespace parley {
namespace {

TEST(Metrics, RendersCountersGaugesAndHistograms) {
  Metrics m;
  m.counter("test_requests_total", "Requests", {{"status", "200"}}).Increment(3);
  m.gauge("test_in_flight", "In flight").Set(2);
  auto& h = m.histogram("test_latency_seconds", "Latency", {0.1, 1.0});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = m.render();
  EXPECT_NE(text.find("# TYPE test_requests_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("test_requests_total{status=\"200\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("test_in_flight 2"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE test_latency_seconds histogram"), std::string::npos) << text;
  EXPECT_NE(text.find("test_latency_seconds_bucket{le=\"0.1\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("test_latency_seconds_bucket{le=\"1\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("test_latency_seconds_bucket{le=\"+Inf\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("test_latency_seconds_count 3"), std::string::npos) << text;
}

TEST(Metrics, SameNameAndLabelsIsTheSameSeries) {
  Metrics m;
  auto& a = m.counter("test_total", "T", {{"k", "v"}});
  auto& b = m.counter("test_total", "T", {{"k", "v"}});
  auto& c = m.counter("test_total", "T", {{"k", "w"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(Metrics, GlobalIsOneRegistry) { EXPECT_EQ(&Metrics::global(), &Metrics::global()); }

}  // namespace
}  // namespace parley
