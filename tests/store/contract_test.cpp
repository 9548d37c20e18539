// The ChatStore contract (tests/support/chat_store_contract.hpp) on SQLite and on a real PostgreSQL
// started by the test (tests/support/postgres_server.hpp).
#include "support/chat_store_contract.hpp"

#include <atomic>

#include "store/postgres/pg_chat_store.hpp"
#include "store/sqlite/sqlite_chat_store.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace parley::test {
namespace {

std::shared_ptr<store::ChatStore> make_sqlite(AsyncRunner&) {
  auto dir = std::make_shared<TempDir>("parley-sqlite");
  auto store = std::make_shared<store::sqlite::SqliteChatStore>(dir->file("chats.db"));
  // The store keeps the directory alive.
  return std::shared_ptr<store::ChatStore>(store.get(), [store, dir](store::ChatStore*) mutable {
    store.reset();
    dir.reset();
  });
}

// One database for the whole suite (tests use fresh owners), migrated once.
std::shared_ptr<store::ChatStore> make_postgres(AsyncRunner& rt) {
  static const std::string url = [] {
    std::string u = shared_postgres().create_database("contract");
    store::postgres::migrate_postgres(u);
    return u;
  }();
  return std::make_shared<store::postgres::PostgresChatStore>(rt.executor(),
                                                              store::postgres::PostgresOptions{.conninfo = url});
}

INSTANTIATE_TEST_SUITE_P(Backends, ChatStoreContract,
                         testing::Values(ContractBackend{"sqlite", make_sqlite}, ContractBackend{"postgres", make_postgres}),
                         [](const testing::TestParamInfo<ContractBackend>& info) { return info.param.name; });

}  // namespace
}  // namespace parley::test
