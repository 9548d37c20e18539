// SQLite-specific behaviour: migrations (fresh, already migrated, several processes at once),
// the schema (no index on content), durability across reopen.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store/sqlite/sqlite_chat_store.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "support/async_runner.hpp"
#include "support/temp_dir.hpp"

namespace parley::store::sqlite {
namespace {

using test::AsyncRunner;
using test::TempDir;

TEST(SqliteStore, MigratesAFreshFileThenFindsItMigrated) {
  TempDir dir;
  std::string path = dir.file("chats.db");
  std::string chat_id;
  {
    SqliteChatStore store(path);
    EXPECT_EQ(store.migration_report().version_before, 0);
    EXPECT_EQ(store.migration_report().version_after, static_cast<int>(sqlite_migrations().size()));
    EXPECT_EQ(store.migration_report().applied, static_cast<int>(sqlite_migrations().size()));
    AsyncRunner rt;
    auto chat = rt.run(store.create_chat("me", {.title = "kept"}));
    ASSERT_TRUE(chat.ok());
    chat_id = chat->id;
  }
  SqliteChatStore again(path);
  EXPECT_EQ(again.migration_report().version_before, static_cast<int>(sqlite_migrations().size()));
  EXPECT_EQ(again.migration_report().applied, 0);
  AsyncRunner rt;
  auto got = rt.run(again.get_chat("me", chat_id));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->chat.title, "kept");
}

TEST(SqliteStore, ConcurrentStartupsApplyEachMigrationOnce) {
  TempDir dir;
  std::string path = dir.file("chats.db");
  constexpr int kOpeners = 6;
  std::atomic<int> applied{0}, failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i)
    threads.emplace_back([&] {
      try {
        SqliteDb db(path, 10000);
        applied += migrate_sqlite(db).applied;
      } catch (const std::exception&) {
        ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied.load(), static_cast<int>(sqlite_migrations().size()));
  SqliteDb db(path, 1000);
  auto st = db.prepare("SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_int(0), static_cast<int64_t>(sqlite_migrations().size()));
}

TEST(SqliteStore, NoIndexCoversMessageContent) {
  TempDir dir;
  SqliteChatStore store(dir.file("chats.db"));
  SqliteDb db(dir.file("chats.db"), 1000);
  auto st = db.prepare("SELECT il.name, ii.name FROM pragma_index_list('messages') il, "
                       "pragma_index_info(il.name) ii");
  int indexed_columns = 0;
  while (st.step()) {
    ++indexed_columns;
    EXPECT_NE(st.column_text(1), "content") << "index " << st.column_text(0) << " covers content";
  }
  EXPECT_GT(indexed_columns, 0);
}

TEST(SqliteStore, UsesWriteAheadLogging) {
  TempDir dir;
  SqliteChatStore store(dir.file("chats.db"));
  SqliteDb db(dir.file("chats.db"), 1000);
  auto st = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_text(0), "wal");
}

TEST(SqliteStore, UnwritablePathFailsToOpen) {
  EXPECT_THROW(SqliteChatStore("/nonexistent-dir/x/chats.db"), std::exception);
}

}  // namespace
}  // namespace parley::store::sqlite
