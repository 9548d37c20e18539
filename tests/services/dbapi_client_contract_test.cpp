// The ChatStore contract on the HTTP client of db-api, against a live in-process db-api.
#include "support/chat_store_contract.hpp"

#include "services/dbapi_fixture.hpp"
#include "store/dbapi_client.hpp"

namespace parley::test {
namespace {

std::shared_ptr<store::ChatStore> make_dbapi_client(AsyncRunner&) {
  auto api = std::make_shared<LiveDbApi>();
  auto client = std::make_shared<store::DbApiChatStore>(
      api->client(), store::DbApiClientOptions{.base_url = api->base_url(), .service_token = LiveDbApi::kToken});
  return std::shared_ptr<store::ChatStore>(client.get(), [client, api](store::ChatStore*) mutable {
    client.reset();
    api.reset();
  });
}

INSTANTIATE_TEST_SUITE_P(HttpClient, ChatStoreContract, testing::Values(ContractBackend{"dbapi", make_dbapi_client}),
                         [](const testing::TestParamInfo<ContractBackend>& info) { return info.param.name; });

TEST(DbApiClient, UnreachableDbApiIsUnavailable) {
  net::EventLoop loop(1);
  loop.start();
  net::HttpClient http(loop);
  store::DbApiChatStore st(http, {.base_url = "http://127.0.0.1:1", .service_token = "x"});
  auto r = run_on(loop.context(), st.get_chat("alice", "chat_" + std::string(32, 'a')));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  auto ready = run_on(loop.context(), st.check_ready());
  EXPECT_FALSE(ready.ok());
}

TEST(DbApiClient, WrongTokenIsUnauthorized) {
  LiveDbApi api;
  store::DbApiChatStore st(api.client(), {.base_url = api.base_url(), .service_token = "wrong"});
  auto r = run_on(api.loop().context(), st.create_chat("alice", {}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unauthorized);
}

}  // namespace
}  // namespace parley::test
