#include "tools/loadtest/report.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <numeric>

namespace parley::tools::loadtest {
namespace json = boost::json;

namespace {

std::string ms(double s) {
  char b[32];
  std::snprintf(b, sizeof b, s < 0.01 ? "%.2f" : s < 1 ? "%.1f" : "%.0f", s * 1e3);
  return b;
}

json::object pct_json(const Percentiles& p) {
  return {{"count", p.count}, {"mean", p.mean}, {"p50", p.p50},
          {"p90", p.p90},     {"p99", p.p99},   {"max", p.max}};
}

json::object errors_json(const EndpointTotals& t) {
  json::object e;
  for (int i = 0; i < kErrorKinds; ++i) e[error_kind_name(static_cast<ErrorKind>(i))] = t.errors[i];
  return e;
}

uint64_t error_total(const EndpointTotals& t) {
  return std::accumulate(t.errors.begin(), t.errors.end(), uint64_t{0});
}

// Little's law: the mean number of requests in flight = sum of their durations / elapsed.
double mean_in_flight(const Summary& s) {
  double total = std::accumulate(s.overall.latency_s.begin(), s.overall.latency_s.end(), 0.0);
  return s.elapsed_s > 0 ? total / s.elapsed_s : 0.0;
}

}  // namespace

void print_summary(std::FILE* out, const LoadOptions& o, const Summary& s, const RunExtras& x) {
  std::fprintf(out, "\nscenario %s  url %s  users %d  elapsed %.1fs  seed %llu%s\n", o.scenario.c_str(),
               o.url.c_str(), o.users, s.elapsed_s, (unsigned long long)o.seed,
               x.interrupted ? "  (interrupted)" : "");
  std::fprintf(out, "%-32s %9s %9s %7s %7s %7s %7s %9s %9s %9s %9s\n", "endpoint", "requests", "req/s",
               "status", "timeout", "broken", "connect", "p50 ms", "p90 ms", "p99 ms", "max ms");
  auto row = [&](const std::string& name, const EndpointTotals& t, const Percentiles& p) {
    std::fprintf(out, "%-32s %9llu %9.1f %7llu %7llu %7llu %7llu %9s %9s %9s %9s\n", name.c_str(),
                 (unsigned long long)t.requests, s.elapsed_s > 0 ? t.requests / s.elapsed_s : 0.0,
                 (unsigned long long)t.errors[0], (unsigned long long)t.errors[1],
                 (unsigned long long)t.errors[2], (unsigned long long)t.errors[3], ms(p.p50).c_str(),
                 ms(p.p90).c_str(), ms(p.p99).c_str(), ms(p.max).c_str());
  };
  for (const auto& [name, v] : s.endpoints) row(name, v.first, v.second);
  row("overall", s.overall, s.overall_latency);
  std::string statuses;
  for (const auto& [code, n] : s.overall.statuses) {
    statuses.push_back(' ');
    statuses.append(std::to_string(code)).append(" x").append(std::to_string(n));
  }
  std::fprintf(out, "statuses:%s   mean in flight %.1f   cut short at the end %llu\n", statuses.c_str(),
               mean_in_flight(s), (unsigned long long)s.cut_short);
  if (s.generation) {
    const GenerationSummary& g = *s.generation;
    std::string prompt = o.scenario == "chat" ? std::string("prompt tokens not reported by the UI")
                                              : "prompt tokens " + std::to_string(g.prompt_tokens) +
                                                    " (cached " + std::to_string(g.cached_tokens) + ")";
    std::fprintf(out, "\ngenerations %llu  %s  completion tokens %llu (%s)\n", (unsigned long long)g.count,
                 prompt.c_str(), (unsigned long long)g.completion_tokens,
                 (o.scenario == "chat" ? std::string("streamed pieces")
                                       : "from usage; max_tokens " + std::to_string(o.max_tokens))
                     .c_str());
    if (g.count) {
      std::fprintf(out, "  mean prompt %.0f tokens, mean completion %.1f tokens per request\n",
                   static_cast<double>(g.prompt_tokens) / static_cast<double>(g.count),
                   static_cast<double>(g.completion_tokens) / static_cast<double>(g.count));
    }
    std::fprintf(out, "%-26s %9s %9s %9s %9s %9s\n", "", "mean", "p50", "p90", "p99", "max");
    auto line = [&](const char* name, const Percentiles& p, double scale, const char* unit) {
      std::fprintf(out, "%-26s %9.1f %9.1f %9.1f %9.1f %9.1f %s\n", name, p.mean * scale, p.p50 * scale,
                   p.p90 * scale, p.p99 * scale, p.max * scale, unit);
    };
    line("time to first token", g.ttft_s, 1e3, "ms");
    line("inter-token latency", g.itl_s, 1e3, "ms");
    line("whole stream", g.e2e_s, 1e3, "ms");
    line("tokens/s per stream", g.per_stream_tokens_per_s, 1, "tokens/s (decode, after the first)");
    std::fprintf(out, "aggregate output %.1f tokens/s   goodput %.2f req/s (%llu of %llu met",
                 g.output_tokens_per_s, g.goodput_per_s, (unsigned long long)g.good,
                 (unsigned long long)g.count);
    if (o.slo.ttft_s > 0) std::fprintf(out, " TTFT <= %.3gs", o.slo.ttft_s);
    if (o.slo.latency_s > 0) std::fprintf(out, " latency <= %.3gs", o.slo.latency_s);
    std::fprintf(out, ")\n");
    if (g.ttft_by_turn.size() > 1) {
      std::fprintf(out, "TTFT by turn:   turn  count   mean ms    p50 ms    p99 ms\n");
      for (const auto& [turn, p] : g.ttft_by_turn)
        std::fprintf(out, "               %4d %6llu %9.1f %9.1f %9.1f\n", turn, (unsigned long long)p.count,
                     p.mean * 1e3, p.p50 * 1e3, p.p99 * 1e3);
    }
  } else if (o.slo.latency_s > 0) {
    std::fprintf(out, "goodput %.1f req/s (latency <= %.3gs)\n",
                 s.elapsed_s > 0 ? s.good_requests / s.elapsed_s : 0, o.slo.latency_s);
  }
  double n = static_cast<double>(s.overall.requests);
  std::fprintf(out,
               "load generator: %.2f CPU s for %llu requests (%.1f us each; one core would drive ~%.0f "
               "req/s), %llu connections\n",
               x.cpu_s, (unsigned long long)s.overall.requests, n > 0 ? x.cpu_s / n * 1e6 : 0.0,
               x.cpu_s > 0 ? n / x.cpu_s : 0.0, (unsigned long long)x.connections);
}

std::string summary_json(const LoadOptions& o, const Summary& s, const RunExtras& x) {
  json::object root;
  root["scenario"] = o.scenario;
  root["url"] = o.url;
  root["users"] = o.users;
  root["options"] = json::object{{"duration_s", o.duration_s},
                                 {"ramp_s", o.ramp_s},
                                 {"think_s", o.think_s},
                                 {"turns", o.turns},
                                 {"truncate_history", o.truncate_history},
                                 {"prompt_tokens", o.prompt_tokens},
                                 {"max_tokens", o.max_tokens},
                                 {"seed", o.seed},
                                 {"ttft_slo_s", o.slo.ttft_s},
                                 {"latency_slo_s", o.slo.latency_s}};
  root["elapsed_s"] = s.elapsed_s;
  root["interrupted"] = x.interrupted;
  root["mean_in_flight"] = mean_in_flight(s);
  root["cut_short"] = s.cut_short;
  auto endpoint_json = [&](const EndpointTotals& t, const Percentiles& p) {
    json::object e{{"requests", t.requests},
                   {"ok", t.ok},
                   {"errors", errors_json(t)},
                   {"requests_per_s", s.elapsed_s > 0 ? t.requests / s.elapsed_s : 0.0},
                   {"error_rate", t.requests ? static_cast<double>(error_total(t)) / t.requests : 0.0},
                   {"latency_s", pct_json(p)}};
    json::object st;
    for (const auto& [code, n] : t.statuses) st[std::to_string(code)] = n;
    e["statuses"] = std::move(st);
    return e;
  };
  root["overall"] = endpoint_json(s.overall, s.overall_latency);
  json::object eps;
  for (const auto& [name, v] : s.endpoints) eps[name] = endpoint_json(v.first, v.second);
  root["endpoints"] = std::move(eps);
  root["good_requests"] = s.good_requests;
  root["request_latency_s"] = pct_json(s.request_latency);  // endpoints other than generation streams
  if (s.generation) {
    const GenerationSummary& g = *s.generation;
    json::array turns;
    for (const auto& [turn, p] : g.ttft_by_turn) {
      json::object t = pct_json(p);
      t["turn"] = turn;
      turns.push_back(std::move(t));
    }
    root["generation"] = json::object{{"count", g.count},
                                      {"ttft_s", pct_json(g.ttft_s)},
                                      {"itl_s", pct_json(g.itl_s)},
                                      {"e2e_s", pct_json(g.e2e_s)},
                                      {"per_stream_tokens_per_s", pct_json(g.per_stream_tokens_per_s)},
                                      {"prompt_tokens", g.prompt_tokens},
                                      {"completion_tokens", g.completion_tokens},
                                      {"cached_tokens", g.cached_tokens},
                                      {"pieces", g.pieces},
                                      {"output_tokens_per_s", g.output_tokens_per_s},
                                      {"good", g.good},
                                      {"goodput_per_s", g.goodput_per_s},
                                      {"ttft_by_turn", std::move(turns)}};
  }
  json::array tl;
  for (const auto& p : s.timeline)
    tl.push_back(json::object{{"t_s", p.t_s},
                              {"requests", p.requests},
                              {"errors", p.errors},
                              {"tokens", p.tokens},
                              {"p50_s", p.p50_s},
                              {"p90_s", p.p90_s},
                              {"p99_s", p.p99_s},
                              {"ttft_p50_s", p.ttft_p50_s}});
  root["timeline"] = std::move(tl);
  double n = static_cast<double>(s.overall.requests);
  root["generator"] = json::object{{"cpu_s", x.cpu_s},
                                   {"cpu_us_per_request", n > 0 ? x.cpu_s / n * 1e6 : 0.0},
                                   {"connections", x.connections}};
  return json::serialize(root) + "\n";
}

std::string timeline_svg(const LoadOptions& o, const Summary& s) {
  // Two stacked panels sharing the time axis: latency percentiles (ms) on top, throughput below
  // (requests/s, and tokens/s for generations).
  const double W = 900, H = 560, left = 70, right = 20, top = 40, panel = 210, gap = 60;
  const double plot_w = W - left - right;
  const auto& tl = s.timeline;
  double t_max = std::max(1.0, tl.empty() ? 1.0 : tl.back().t_s);
  double lat_max = 0, rate_max = 0;
  bool tokens = s.generation.has_value();
  for (const auto& p : tl) {
    lat_max = std::max({lat_max, p.p99_s * 1e3, p.ttft_p50_s * 1e3});
    rate_max = std::max(rate_max,
                        static_cast<double>(tokens ? std::max<uint64_t>(p.tokens, p.requests) : p.requests));
  }
  auto nice = [](double v) {
    if (v <= 0) return 1.0;
    double e = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
      if (v <= m * e) return m * e;
    return 10 * e;
  };
  lat_max = nice(lat_max);
  rate_max = nice(rate_max);
  std::string svg;
  char b[512];
  std::snprintf(
      b, sizeof b,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
      "fill=\"white\"/>\n",
      W, H, W, H);
  svg += b;
  std::snprintf(b, sizeof b,
                "<text x=\"%.0f\" y=\"22\" font-size=\"15\">parley loadtest: %s, %d users, %s</text>\n", left,
                o.scenario.c_str(), o.users, o.url.c_str());
  svg += b;
  auto x_of = [&](double t) { return left + plot_w * t / t_max; };
  auto panel_frame = [&](double y0, double vmax, const char* label) {
    std::snprintf(
        b, sizeof b,
        "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#888\"/>\n", left,
        y0, plot_w, panel);
    svg += b;
    for (int i = 0; i <= 4; ++i) {
      double y = y0 + panel - panel * i / 4;
      std::snprintf(b, sizeof b,
                    "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%.0f\" "
                    "y=\"%.1f\" "
                    "text-anchor=\"end\">%g</text>\n",
                    left, y, left + plot_w, y, left - 6, y + 4, vmax * i / 4);
      svg += b;
    }
    std::snprintf(b, sizeof b, "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n", left, y0 - 6, label);
    svg += b;
  };
  auto series = [&](double y0, double vmax, const char* color, auto value, const char* name, int legend) {
    std::string pts;
    for (const auto& p : tl) {
      double v = std::min(vmax, value(p));
      std::snprintf(b, sizeof b, "%.1f,%.1f ", x_of(p.t_s), y0 + panel - panel * v / vmax);
      pts += b;
    }
    svg += "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"" + std::string(color) + "\" points=\"" +
           pts + "\"/>\n";
    std::snprintf(b, sizeof b, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s</text>\n", left + plot_w - 160,
                  y0 + 16 + 14 * legend, color, name);
    svg += b;
  };
  double y1 = top + 20, y2 = top + 20 + panel + gap;
  panel_frame(y1, lat_max, "latency (ms) of requests finished in each second");
  series(
      y1, lat_max, "#1f77b4", [](const TimelinePoint& p) { return p.p50_s * 1e3; }, "p50", 0);
  series(
      y1, lat_max, "#ff7f0e", [](const TimelinePoint& p) { return p.p90_s * 1e3; }, "p90", 1);
  series(
      y1, lat_max, "#d62728", [](const TimelinePoint& p) { return p.p99_s * 1e3; }, "p99", 2);
  if (tokens)
    series(
        y1, lat_max, "#2ca02c", [](const TimelinePoint& p) { return p.ttft_p50_s * 1e3; }, "TTFT p50", 3);
  panel_frame(y2, rate_max,
              tokens ? "throughput per second: requests, output tokens, errors"
                     : "throughput per second: requests, errors");
  series(
      y2, rate_max, "#1f77b4", [](const TimelinePoint& p) { return static_cast<double>(p.requests); },
      "requests/s", 0);
  if (tokens)
    series(
        y2, rate_max, "#2ca02c", [](const TimelinePoint& p) { return static_cast<double>(p.tokens); },
        "tokens/s", 1);
  series(
      y2, rate_max, "#d62728", [](const TimelinePoint& p) { return static_cast<double>(p.errors); },
      "errors/s", 2);
  for (int i = 0; i <= 5; ++i) {
    double t = t_max * i / 5;
    std::snprintf(b, sizeof b, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.0fs</text>\n", x_of(t),
                  y2 + panel + 18, t);
    svg += b;
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace parley::tools::loadtest
