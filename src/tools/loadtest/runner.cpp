#include "tools/loadtest/runner.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <future>
#include <stdexcept>

#include "net/blocking.hpp"
#include "tools/loadtest/scenarios.hpp"

namespace parley::tools::loadtest {
namespace asio = boost::asio;
using net::ClientError;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

double cpu_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return tv(u.ru_utime) + tv(u.ru_stime);
}

std::string human_seconds(double s) {
  char buf[32];
  if (s < 1e-3)
    std::snprintf(buf, sizeof buf, "%.0fus", s * 1e6);
  else if (s < 1)
    std::snprintf(buf, sizeof buf, "%.1fms", s * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.2fs", s);
  return buf;
}

}  // namespace

std::optional<ErrorKind> classify(const ClientError& e) {
  switch (e.kind()) {
    case ClientError::Kind::cancelled:
      return std::nullopt;
    case ClientError::Kind::timeout:
      return ErrorKind::timeout;
    case ClientError::Kind::connect:
    case ClientError::Kind::bad_url:
      return ErrorKind::connect;
    default:
      return ErrorKind::broken_stream;
  }
}

struct LoadRun::State {
  std::atomic<int> interrupts{0};
  std::set<asio::steady_timer*> sleepers;  // loop thread only
};

asio::awaitable<void> RunContext::think(std::mt19937_64& rng, double mean_s) {
  if (mean_s <= 0 || stopping) co_return;
  std::uniform_real_distribution<double> d(0.5 * mean_s, 1.5 * mean_s);
  co_await think_exactly(d(rng));
}

asio::awaitable<std::optional<net::ClientResponse>> RunContext::send(std::string endpoint,
                                                                     net::ClientRequest request) {
  auto begin = Clock::now();
  try {
    net::ClientResponse r = co_await client.request(std::move(request));
    bool failed = r.status >= 400;
    recorder.request(endpoint, begin, Clock::now(), failed ? std::optional(ErrorKind::status) : std::nullopt,
                     r.status);
    if (failed) co_return std::nullopt;
    co_return r;
  } catch (const ClientError& e) {
    if (auto kind = classify(e))
      recorder.request(endpoint, begin, Clock::now(), kind, 0);
    else
      recorder.cut_short();
  }
  co_return std::nullopt;
}

LoadRun::LoadRun(LoadOptions options) : options_(std::move(options)), state_(std::make_shared<State>()) {}
LoadRun::~LoadRun() = default;

void LoadRun::interrupt() { state_->interrupts.fetch_add(1); }

Summary LoadRun::run(std::FILE* progress) {
  if (options_.seed == 0)
    options_.seed = (static_cast<uint64_t>(std::random_device{}()) << 20 | std::random_device{}()) + 1;
  const LoadOptions& o = options_;
  if (o.users < 1) throw std::invalid_argument("--users must be at least 1");
  if (o.duration_s <= 0) throw std::invalid_argument("--duration must be positive");
  if (o.scenario != "db" && o.scenario != "lm" && o.scenario != "chat")
    throw std::invalid_argument("--scenario must be chat, lm or db");
  if (o.turns < 1) throw std::invalid_argument("--turns must be at least 1");

  net::EventLoop loop(1);  // every user on one thread: the generator's cost is one core at most
  loop.start();
  net::ClientOptions co;
  co.read_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000));
  co.connect_timeout = std::chrono::seconds(10);
  co.max_idle_per_host = static_cast<size_t>(o.users) * 2 + 16;
  co.user_agent = "parley-loadtest";
  net::HttpClient client(loop, co);

  std::string base = o.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string model = o.model;
  if (o.scenario == "lm" && model.empty())
    model = net::run_blocking(loop, resolve_model(client, base, o.token));

  Clock::time_point start = Clock::now();
  Recorder recorder(start);
  RunContext ctx{.options = o, .client = client, .recorder = recorder, .base = base};
  ctx.model = model;
  ctx.sleepers = &state_->sleepers;
  auto state = state_;
  double cpu_before = cpu_now();
  bool tty = progress && isatty(fileno(progress));

  auto main = [&]() -> asio::awaitable<double> {
    auto ex = co_await asio::this_coro::executor;
    int active = 0;
    for (int i = 0; i < o.users; ++i) {
      ++active;
      double delay = o.users > 1 ? o.ramp_s * i / o.users : 0.0;
      asio::co_spawn(
          ex,
          [&ctx, &active, i, delay, seed = o.seed]() -> asio::awaitable<void> {
            std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(i));
            if (delay > 0) co_await ctx.think_exactly(delay);
            try {
              if (!ctx.stopping) co_await run_user(ctx, i, rng);
            } catch (const std::exception& e) {
              std::fprintf(stderr, "loadtest: user %d stopped: %s\n", i, e.what());
            }
            --active;
          },
          asio::detached);
    }
    asio::steady_timer tick(ex);
    auto deadline =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
    auto next_print = start + std::chrono::seconds(1);
    uint64_t last_requests = 0, last_tokens = 0;
    Clock::time_point last_print = start;
    std::optional<Clock::time_point> stop_at;
    bool cancelled_streams = false;
    while (true) {
      auto now = Clock::now();
      if (!stop_at && (now >= deadline || state->interrupts.load() > 0)) {
        stop_at = now;
        ctx.stopping = true;
        for (auto* t : state->sleepers) t->cancel();
      }
      if (stop_at && active == 0) break;
      if (stop_at && !cancelled_streams &&
          (state->interrupts.load() > 1 || now - *stop_at >= std::chrono::duration_cast<Clock::duration>(
                                                                 std::chrono::duration<double>(o.drain_s)))) {
        for (auto* s : ctx.streams) s->cancel();
        cancelled_streams = true;
      }
      if (progress && o.progress && now >= next_print) {
        next_print = now + std::chrono::seconds(1);
        double t = std::chrono::duration<double>(now - start).count();
        double dt = std::max(1e-3, std::chrono::duration<double>(now - last_print).count());
        last_print = now;
        Percentiles p = recorder.take_recent();
        std::fprintf(
            progress,
            "%s[%5.0fs/%.0fs] users %d  req %llu (%llu/s)  err %llu  p50 %s p99 %s  tokens %llu (%llu/s)%s",
            tty ? "\r" : "", t, o.duration_s, active, (unsigned long long)recorder.requests(),
            (unsigned long long)((recorder.requests() - last_requests) / dt),
            (unsigned long long)recorder.errors(), human_seconds(p.p50).c_str(), human_seconds(p.p99).c_str(),
            (unsigned long long)recorder.tokens(),
            (unsigned long long)((recorder.tokens() - last_tokens) / dt), tty ? "   " : "\n");
        std::fflush(progress);
        last_requests = recorder.requests();
        last_tokens = recorder.tokens();
      }
      tick.expires_after(std::chrono::milliseconds(20));
      co_await tick.async_wait(kTuple);
    }
    if (progress && o.progress && tty) std::fputc('\n', progress);
    co_return std::chrono::duration<double>(Clock::now() - start).count();
  };
  double elapsed = net::run_blocking(loop, main());
  cpu_s_ = cpu_now() - cpu_before;
  connections_ = client.connections_opened();
  Summary s = recorder.summarize(elapsed, o.slo);
  loop.stop();
  return s;
}

asio::awaitable<void> RunContext::think_exactly(double s) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)));
  sleepers->insert(&timer);
  co_await timer.async_wait(kTuple);
  sleepers->erase(&timer);
}

}  // namespace parley::tools::loadtest
