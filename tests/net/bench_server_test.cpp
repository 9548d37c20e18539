// Not a test: a server to point wrk at (disabled by default).
//   PARLEY_BENCH_PORT=18080 PARLEY_BENCH_SECONDS=30 test_net --gtest_also_run_disabled_tests
//       --gtest_filter='BenchServer.*'
//   wrk -t2 -c100 -d10s --latency http://127.0.0.1:18080/v1/chats/abc
// Serves a 4 KiB JSON body (about a chat with 20 short messages) with 2 loop threads.
#include <gtest/gtest.h>

#include <thread>

#include "core/config.hpp"
#include "core/logging.hpp"
#include "server_fixture.hpp"

namespace parley::net {
namespace {

TEST(BenchServer, DISABLED_Serve) {
  setup_logging(log_options_from_env());
  EventLoop loop(static_cast<int>(env_int("PARLEY_BENCH_THREADS", 2)));
  std::string body = "{\"id\":\"0123456789abcdef0123456789abcdef\",\"messages\":[";
  for (int i = 0; i < 20; ++i) {
    if (i) body += ",";
    body += "{\"id\":\"m" + std::to_string(i) + "\",\"role\":\"user\",\"content\":\"" + std::string(150, 'x') + "\"}";
  }
  body += "]}";
  Router r;
  r.get("/v1/chats/{id}", [&body](Request& req) -> boost::asio::awaitable<Response> {
    if (req.param("id").empty()) co_return Response::error(ErrorCode::not_found, "no");
    co_return Response::json(200, body);
  });
  ServerOptions opt;
  opt.port = static_cast<uint16_t>(env_int("PARLEY_BENCH_PORT", 18080));
  Server server(loop, opt, std::move(r));
  server.start();
  loop.start();
  std::this_thread::sleep_for(std::chrono::seconds(env_int("PARLEY_BENCH_SECONDS", 30)));
  server.shutdown();
  server.wait_drained();
  loop.stop();
}

}  // namespace
}  // namespace parley::net
