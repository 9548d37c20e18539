// EndpointSet and OpenAiGenerator over replicas found by DNS (dns+http://name:port): expansion of
// a name into one endpoint per address, re-resolution (when due, after a connection failure),
// stable affinity over a changing set, and end to end against two fake OpenAI servers on
// 127.0.0.1 and 127.0.0.2 (same port, as a headless Service's pods would be). The name is never
// looked up in DNS: a resolver fed by the test stands in for it (no network, cannot flake).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "core/metrics.hpp"
#include "net/blocking.hpp"
#include "net/client.hpp"
#include "net/server.hpp"
#include "services/openai/endpoint_set.hpp"
#include "services/openai/openai_generator.hpp"

namespace parley::services {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// A DNS stand-in: answers `addresses` for any name, counts lookups, fails when told to.
struct FakeDns {
  std::mutex mu;
  std::vector<std::string> addresses;
  bool fail = false;
  std::atomic<int> lookups{0};
  std::vector<std::string> names;

  void set(std::vector<std::string> a) {
    std::lock_guard lock(mu);
    addresses = std::move(a);
  }
  HostResolver resolver() {
    return [this](std::string host, std::string port) -> asio::awaitable<std::vector<std::string>> {
      lookups.fetch_add(1);
      std::lock_guard lock(mu);
      names.push_back(host + ":" + port);
      if (fail) throw std::runtime_error("SERVFAIL");
      co_return addresses;
    };
  }
};

template <typename T>
T block(net::EventLoop& loop, asio::awaitable<T> aw) {
  auto wrapped = [](asio::awaitable<T> inner) -> asio::awaitable<std::optional<T>> {
    co_return std::optional<T>(co_await std::move(inner));
  };
  return std::move(*net::run_blocking(loop, wrapped(std::move(aw))));
}

std::vector<std::string> bases(const LmEndpoints& eps) {
  std::vector<std::string> out;
  for (auto& e : eps) out.push_back(e->base);
  return out;
}

TEST(EndpointSet, ExpandsADnsNameIntoOneEndpointPerAddress) {
  net::EventLoop loop(1);
  loop.start();
  FakeDns dns;
  dns.set({"10.0.0.2", "10.0.0.1", "fd00::7", "10.0.0.1"});
  EndpointSet set({"dns+http://lm-api-replicas:8082", "http://static:9000/v1/"}, dns.resolver(), 1h);
  EXPECT_TRUE(set.has_dns());
  EXPECT_EQ(bases(*set.snapshot()), std::vector<std::string>{"http://static:9000/v1"});  // not resolved yet
  auto eps = block(loop, set.current());
  EXPECT_EQ(bases(*eps), (std::vector<std::string>{"http://10.0.0.1:8082/v1", "http://10.0.0.2:8082/v1",
                                                   "http://[fd00::7]:8082/v1", "http://static:9000/v1"}));
  EXPECT_EQ(dns.names, std::vector<std::string>{"lm-api-replicas:8082"});
  // Within the refresh interval the set is reused without a lookup.
  block(loop, set.current());
  EXPECT_EQ(dns.lookups.load(), 1);

  EndpointSet with_path({"dns+http://name/v1"}, dns.resolver(), 1h);
  EXPECT_EQ(block(loop, with_path.current())->front()->base, "http://10.0.0.1:80/v1");
  EXPECT_THROW(EndpointSet({"dns+https://name:1"}, dns.resolver()), std::invalid_argument);
  EXPECT_THROW(EndpointSet({"dns+nonsense"}, dns.resolver()), std::invalid_argument);
  EXPECT_THROW(EndpointSet({}, dns.resolver()), std::invalid_argument);
  EndpointSet plain({"http://a:1"}, dns.resolver());
  EXPECT_FALSE(plain.has_dns());
  block(loop, plain.current());
  EXPECT_EQ(dns.lookups.load(), 2);  // only with_path looked up since
}

TEST(EndpointSet, ReResolvesWhenDueAndAfterAConnectionFailure) {
  net::EventLoop loop(1);
  loop.start();
  FakeDns dns;
  dns.set({"10.0.0.1"});
  EndpointSet every_time({"dns+http://n:1"}, dns.resolver(), 0ms);  // always due
  block(loop, every_time.current());
  dns.set({"10.0.0.1", "10.0.0.2"});  // scale out
  EXPECT_EQ(block(loop, every_time.current())->size(), 2u);
  dns.set({"10.0.0.2"});  // scale in
  EXPECT_EQ(bases(*block(loop, every_time.current())), std::vector<std::string>{"http://10.0.0.2:1/v1"});
  EXPECT_EQ(dns.lookups.load(), 3);

  EndpointSet hourly({"dns+http://n:1"}, dns.resolver(), 1h);
  auto first = block(loop, hourly.current());
  dns.set({"10.0.0.3"});
  EXPECT_EQ(block(loop, hourly.current())->front()->base, "http://10.0.0.2:1/v1");  // not due
  hourly.mark_down(*first->front(), 5s);
  EXPECT_FALSE(first->front()->healthy());
  EXPECT_EQ(block(loop, hourly.current())->front()->base, "http://10.0.0.3:1/v1");  // due after the failure
  EXPECT_EQ(hourly.resolutions(), 2u);
}

TEST(EndpointSet, FailedOrEmptyLookupKeepsThePreviousAddresses) {
  net::EventLoop loop(1);
  loop.start();
  FakeDns dns;
  EndpointSet set({"dns+http://n:1"}, dns.resolver(), 0ms);
  EXPECT_TRUE(block(loop, set.current())->empty());  // nothing yet: empty, not an exception
  dns.set({"10.0.0.1", "10.0.0.2"});
  auto two = block(loop, set.current());
  ASSERT_EQ(two->size(), 2u);
  two->front()->outstanding = 3;
  dns.fail = true;
  EXPECT_EQ(bases(*block(loop, set.current())), bases(*two));
  dns.fail = false;
  dns.set({});
  auto still = block(loop, set.current());
  EXPECT_EQ(bases(*still), bases(*two));
  // Endpoints that stay keep their state (the same object).
  dns.set({"10.0.0.1", "10.0.0.9"});
  auto moved = block(loop, set.current());
  EXPECT_EQ(moved->front().get(), two->front().get());
  EXPECT_EQ(moved->front()->outstanding.load(), 3);
}

// Rendezvous hashing over a changing set: a chat moves only if its replica left, or to a replica
// that joined; the chats spread over the replicas.
TEST(EndpointSet, AffinityIsStableForAddressesThatRemain) {
  net::EventLoop loop(1);
  loop.start();
  FakeDns dns;
  dns.set({"10.0.0.1", "10.0.0.2", "10.0.0.3"});
  EndpointSet set({"dns+http://n:8082"}, dns.resolver(), 0ms);
  auto choose = [&](const std::string& chat) {
    auto eps = block(loop, set.current());
    return (*eps)[pick_endpoint(*eps, chat, {})]->base;
  };
  std::map<std::string, std::string> before;
  std::map<std::string, int> spread;
  for (int i = 0; i < 300; ++i) {
    const std::string chat = "chat_" + std::to_string(i);
    before[chat] = choose(chat);
    spread[before[chat]]++;
  }
  ASSERT_EQ(spread.size(), 3u);
  for (auto& [base, n] : spread) EXPECT_GT(n, 50) << base;

  dns.set({"10.0.0.1", "10.0.0.3"});  // 10.0.0.2 leaves
  int moved = 0;
  for (auto& [chat, base] : before) {
    const std::string now = choose(chat);
    if (base == "http://10.0.0.2:8082/v1") {
      EXPECT_NE(now, base);
      ++moved;
    } else {
      EXPECT_EQ(now, base) << chat;
    }
  }
  EXPECT_EQ(moved, spread["http://10.0.0.2:8082/v1"]);

  dns.set({"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"});  // back, plus one more
  int to_new = 0;
  for (auto& [chat, base] : before) {
    const std::string now = choose(chat);
    if (now == "http://10.0.0.4:8082/v1") {
      ++to_new;
    } else {
      EXPECT_EQ(now, base) << chat;
    }
  }
  EXPECT_GT(to_new, 30);
  EXPECT_LT(to_new, 150);
}

TEST(EndpointSet, BusyOrDownReplicaSendsToTheLeastBusy) {
  LmEndpoints eps{std::make_shared<LmEndpoint>("http://a/v1"), std::make_shared<LmEndpoint>("http://b/v1")};
  size_t home = pick_endpoint(eps, "chat", {});
  size_t other = 1 - home;
  eps[home]->outstanding = 2;
  EXPECT_EQ(pick_endpoint(eps, "chat", {}), home);  // 2 more is not "clearly busier"
  eps[home]->outstanding = 3;
  EXPECT_EQ(pick_endpoint(eps, "chat", {}), other);
  eps[home]->outstanding = 0;
  eps[home]->down_until =
      std::chrono::steady_clock::now().time_since_epoch().count() + int64_t{60'000'000'000};
  EXPECT_EQ(pick_endpoint(eps, "chat", {}), other);
  eps[home]->down_until = 0;
  eps[other]->outstanding = 1;
  EXPECT_EQ(pick_endpoint(eps, "", {}), home);  // no key: least busy
  // Without affinity, the requests of one chat spread like a Service's (down ones skipped).
  std::set<size_t> chosen;
  for (size_t r = 0; r < 4; ++r)
    chosen.insert(pick_endpoint(eps, "chat", {.affinity = false, .rotation = r}));
  EXPECT_EQ(chosen.size(), 2u);
  EXPECT_EQ(pick_endpoint(eps, "chat", {.rotation = 0}),
            pick_endpoint(eps, "chat", {.rotation = 1}));  // affinity
  eps[other]->down_until =
      std::chrono::steady_clock::now().time_since_epoch().count() + int64_t{60'000'000'000};
  for (size_t r = 0; r < 4; ++r)
    EXPECT_EQ(pick_endpoint(eps, "chat", {.affinity = false, .rotation = r}), home);
}

// A fake OpenAI server that streams one piece naming itself, and counts the chats it served.
struct FakeReplica {
  FakeReplica(net::EventLoop& loop, std::string host, uint16_t port) : name(host) {
    net::Router router;
    router.post("/v1/chat/completions", [this](net::Request&) -> asio::awaitable<net::Response> {
      served.fetch_add(1);
      std::string sse = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + name + "\"}}]}\n\n";
      sse += "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
      sse += "data: [DONE]\n\n";
      co_return net::Response::text(200, sse, "text/event-stream");
    });
    router.get("/v1/models", [](net::Request&) -> asio::awaitable<net::Response> {
      co_return net::Response::json(200, R"({"object":"list","data":[{"id":"fake","object":"model"}]})");
    });
    net::ServerOptions opt;
    opt.name = "fake-lm";
    opt.host = host;
    opt.port = port;
    opt.builtin_endpoints = false;
    opt.metrics = &metrics;
    server = std::make_unique<net::Server>(loop, opt, std::move(router));
    this->port = server->start();
  }
  std::string name;
  Metrics metrics;
  std::atomic<int> served{0};
  std::unique_ptr<net::Server> server;
  uint16_t port = 0;
};

std::string chat_once(net::EventLoop& loop, OpenAiGenerator& gen, const std::string& chat) {
  llm::GenerationInput in;
  in.messages = {{"user", "hello"}};
  in.affinity_key = chat;
  return net::run_blocking(loop, [&]() -> asio::awaitable<std::string> {
    auto s = co_await gen.generate(in);
    if (!s.ok()) co_return "error: " + s.error().message;
    std::string text;
    while (auto p = co_await (*s)->next()) text += *p;
    co_return text;
  }());
}

TEST(OpenAiGeneratorDns, ChatsStickToReplicasFoundByNameAndSurviveOneLeaving) {
  net::EventLoop loop(2);
  auto a = std::make_unique<FakeReplica>(loop, "127.0.0.1", 0);
  auto b = std::make_unique<FakeReplica>(loop, "127.0.0.2", a->port);  // same port: like pods
  loop.start();
  net::HttpClient client(loop);
  FakeDns dns;
  dns.set({"127.0.0.1", "127.0.0.2"});
  OpenAiGenerator gen(client,
                      {.endpoints = {"dns+http://lm-api-replicas.parley.svc:" + std::to_string(a->port)},
                       .refresh_every = 1h,
                       .resolver = dns.resolver()});
  EXPECT_TRUE(block(loop, gen.ready()).ok());
  ASSERT_EQ(gen.endpoint_count(), 2u);

  std::map<std::string, std::set<std::string>> served_by;
  for (int turn = 0; turn < 3; ++turn)
    for (int c = 0; c < 20; ++c) {
      const std::string chat = std::to_string(c);
      served_by[chat].insert(chat_once(loop, gen, chat));
    }
  for (auto& [chat, replicas] : served_by)
    EXPECT_EQ(replicas.size(), 1u) << chat;  // every turn on one replica
  EXPECT_GT(a->served.load(), 0);
  EXPECT_GT(b->served.load(), 0);
  EXPECT_EQ(a->served.load() + b->served.load(), 60);

  // 127.0.0.2 goes away (and leaves DNS): its chats fail over to 127.0.0.1 at once (a connection
  // failure re-sends the request elsewhere), and the next lookup drops it.
  b->server->shutdown();  // (the object lives on until the loop has stopped)
  dns.set({"127.0.0.1"});
  const int lookups = dns.lookups.load();
  for (auto& [chat, replicas] : served_by) EXPECT_EQ(chat_once(loop, gen, chat), "127.0.0.1") << chat;
  EXPECT_GT(dns.lookups.load(), lookups);
  std::string left =
      "http://127.0.0.1:";  // (one concatenation at a time: g++ 12's -Wrestrict false positive)
  left += std::to_string(a->port);
  left += "/v1";
  EXPECT_EQ(gen.endpoint_urls(), std::vector<std::string>{left});
  a->server->shutdown();
  loop.stop();
  EXPECT_EQ(b->served.load() + a->served.load(), 60 + static_cast<int>(served_by.size()));
}

// The system resolver, on a name that needs no DNS server: a numeric address.
TEST(OpenAiGeneratorDns, SystemResolverOnANumericName) {
  net::EventLoop loop(1);
  FakeReplica a(loop, "127.0.0.1", 0);
  loop.start();
  net::HttpClient client(loop);
  OpenAiGenerator gen(client, {.endpoints = {"dns+http://127.0.0.1:" + std::to_string(a.port)}});
  EXPECT_EQ(chat_once(loop, gen, "x"), "127.0.0.1");
  EXPECT_EQ(gen.endpoint_set().resolutions(), 1u);
  a.server->shutdown();
  loop.stop();
}

}  // namespace
}  // namespace parley::services
