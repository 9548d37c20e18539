// The load-test runner: N simulated users as coroutines on ONE event-loop thread sharing a
// keep-alive HttpClient pool, started over a ramp, stopped at the duration (or on interrupt()),
// with a once-a-second progress line.
//
//   LoadOptions o{.url = "http://127.0.0.1:8081", .scenario = "db", .users = 100, .duration_s = 30};
//   LoadRun run(o);
//   Summary s = run.run(stderr);        // blocks; interrupt() from another thread ends it early
//
// Scenarios (scenarios.hpp) are one coroutine per user that loops until ctx.stopping.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "net/client.hpp"
#include "tools/loadtest/stats.hpp"

namespace parley::tools::loadtest {

struct LoadOptions {
  std::string url;              // base URL, e.g. http://127.0.0.1:8081
  std::string scenario = "db";  // db | lm | chat
  int users = 10;
  double duration_s = 30;
  double ramp_s = 0;        // users start evenly over this many seconds
  double think_s = 0;       // mean pause between a user's requests (uniform 0.5x..1.5x)
  int turns = 1;            // lm/chat: messages per conversation
  int prompt_tokens = 200;  // lm: approximate prompt length; chat: message length (words)
  int max_tokens = 128;     // lm: "max_tokens"
  uint64_t seed = 0;        // 0: a random one (reported), so runs never repeat prompts
  std::string token;        // Bearer token for db and lm
  std::string model;        // lm: "model" field ("" = ask /v1/models)
  std::string endpoint;     // lm: "completions" or "chat" ("" = completions for 1 turn, chat otherwise)
  bool truncate_history = false;  // lm chat: ask the server to drop the oldest turns that do not fit (as Parley's UI does)
  Slo slo;
  double timeout_s = 120;  // per request: response head, and each body read
  double drain_s = 30;     // after the duration: how long running requests may finish
  bool progress = true;
};

// What users of a run share. Lives on the loop thread; nothing here needs a lock.
struct RunContext {
  const LoadOptions& options;
  net::HttpClient& client;
  Recorder& recorder;
  std::string base;                                          // options.url without a trailing '/'
  bool stopping = false;                                     // no new requests once set
  std::set<net::ResponseBody*> streams;                      // bodies being read (cancelled after the drain)
  std::string model;                                         // resolved lm model name
  std::set<boost::asio::steady_timer*>* sleepers = nullptr;  // pauses to cut short at the end

  // Pause for about `mean_s` (uniform 0.5x..1.5x), cut short when the run stops.
  boost::asio::awaitable<void> think(std::mt19937_64& rng, double mean_s);
  boost::asio::awaitable<void> think_exactly(double seconds);
  // One whole request, recorded under `endpoint`. nullopt when it failed (recorded as an error)
  // or was cut short by the end of the run.
  boost::asio::awaitable<std::optional<net::ClientResponse>> send(std::string endpoint,
                                                                  net::ClientRequest request);
  std::string url(std::string_view path) const { return base + std::string(path); }
};

// The error kind of a client failure; nullopt for a cancellation (the run ended).
std::optional<ErrorKind> classify(const net::ClientError& e);

class LoadRun {
 public:
  explicit LoadRun(LoadOptions options);
  ~LoadRun();
  // Runs to the end; prints the progress line to `progress` (may be null). Throws on bad options.
  Summary run(std::FILE* progress);
  // Ends the run early from any thread (Ctrl-C): users stop, running requests get the drain time;
  // a second call cancels the running streams at once.
  void interrupt();
  // Process CPU time the run used, seconds (the load generator's own cost).
  double cpu_seconds() const { return cpu_s_; }
  uint64_t connections_opened() const { return connections_; }
  // The options as run (the seed resolved).
  const LoadOptions& options() const { return options_; }

 private:
  struct State;
  LoadOptions options_;
  std::shared_ptr<State> state_;
  double cpu_s_ = 0;
  uint64_t connections_ = 0;
};

}  // namespace parley::tools::loadtest
