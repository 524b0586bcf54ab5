// Store conformance: every case runs on SQLite and on the real MariaDB.
#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "core/db/migrations.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using cunhuo::test::TestStore;

namespace {
void make_table(db::Database& db) {
  auto st = db.write([](db::Session& s) -> Status {
    return s.exec_script(
        db::expand_sql("CREATE TABLE items (id {{ID}}, name VARCHAR(100) NOT NULL UNIQUE, qty "
                       "BIGINT NOT NULL, price DOUBLE, note TEXT);",
                       s.dialect()));
  });
  REQUIRE(st.ok());
}
}  // namespace

STORE_TEST("a committed write is visible to later reads", "[store]") {
  TestStore store(store_kind);
  make_table(store.db());
  auto id = store.db().write([](db::Session& s) -> Result<std::int64_t> {
    CUNHUO_TRY(s.exec("INSERT INTO items (name, qty, price, note) VALUES (?, ?, ?, ?)",
                      {"蜜瓜", 12, 3.5, nullptr}));
    return s.last_insert_id();
  });
  REQUIRE(id.ok());
  CHECK(*id > 0);
  auto row = store.db().read([&](db::Session& s) {
    return s.query_one("SELECT name, qty, price, note FROM items WHERE id = ?", {*id});
  });
  REQUIRE(row.ok());
  REQUIRE(row->has_value());
  CHECK((*row)->str(0) == "蜜瓜");
  CHECK((*row)->i64(1) == 12);
  CHECK((*row)->f64(2) == 3.5);
  CHECK((*row)->is_null(3));
}

STORE_TEST("a body that returns an error writes nothing", "[store]") {
  TestStore store(store_kind);
  make_table(store.db());
  auto st = store.db().write([](db::Session& s) -> Status {
    CUNHUO_TRY(s.exec("INSERT INTO items (name, qty) VALUES (?, ?)", {"a", 1}));
    return make_error(ErrorKind::invalid, "nope", "refused after the insert");
  });
  REQUIRE_FALSE(st.ok());
  auto count =
      store.db().read([](db::Session& s) { return s.query_one("SELECT COUNT(*) FROM items"); });
  CHECK((*count)->i64(0) == 0);
}

STORE_TEST("a unique violation is a conflict named duplicate", "[store]") {
  TestStore store(store_kind);
  make_table(store.db());
  auto insert = [&] {
    return store.db().write([](db::Session& s) -> Status {
      CUNHUO_TRY(s.exec("INSERT INTO items (name, qty) VALUES (?, ?)", {"same", 1}));
      return {};
    });
  };
  REQUIRE(insert().ok());
  auto again = insert();
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == db::kDuplicate);
  CHECK(again.error().kind == ErrorKind::conflict);
}

STORE_TEST("a conditional decrement never drives stock negative under concurrency", "[store]") {
  TestStore store(store_kind);
  make_table(store.db());
  REQUIRE(store.db()
              .write([](db::Session& s) -> Status {
                CUNHUO_TRY(s.exec("INSERT INTO items (name, qty) VALUES (?, ?)", {"stock", 50}));
                return {};
              })
              .ok());
  std::atomic<int> sold{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto took = store.db().write([](db::Session& s) -> Result<std::int64_t> {
          auto r = CUNHUO_TRY(
              s.exec("UPDATE items SET qty = qty - 1 WHERE name = ? AND qty >= 1", {"stock"}));
          return r.affected_rows;
        });
        if (took.ok() && *took == 1) ++sold;
      }
    });
  for (auto& t : threads) t.join();
  auto left = store.db().read(
      [](db::Session& s) { return s.query_one("SELECT qty FROM items WHERE name = 'stock'"); });
  CHECK(sold.load() == 50);
  CHECK((*left)->i64(0) == 0);
}

STORE_TEST("text round-trips as utf-8 and compares byte for byte", "[store]") {
  TestStore store(store_kind);
  make_table(store.db());
  REQUIRE(store.db()
              .write([](db::Session& s) -> Status {
                CUNHUO_TRY(s.exec("INSERT INTO items (name, qty, note) VALUES (?, ?, ?)",
                                  {"白牦牛肉", 1, "🐂 emoji"}));
                CUNHUO_TRY(s.exec("INSERT INTO items (name, qty) VALUES (?, ?)", {"Abc", 1}));
                return {};
              })
              .ok());
  auto rows = store.db().read([](db::Session& s) {
    return s.query("SELECT name, note FROM items WHERE name LIKE ? ORDER BY id", {"%牦牛%"});
  });
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].str(1) == "🐂 emoji");
  auto exact = store.db().read(
      [](db::Session& s) { return s.query("SELECT name FROM items WHERE name = ?", {"abc"}); });
  CHECK(exact->empty());  // binary collation on both stores
}

STORE_TEST("sums over integer columns come back as integers", "[store]") {
  TestStore store(store_kind);
  make_table(store.db());
  REQUIRE(store.db()
              .write([](db::Session& s) -> Status {
                for (int i = 0; i < 3; ++i)
                  CUNHUO_TRY(s.exec("INSERT INTO items (name, qty) VALUES (?, ?)",
                                    {"n" + std::to_string(i), 4000000000LL}));
                return {};
              })
              .ok());
  auto sum =
      store.db().read([](db::Session& s) { return s.query_one("SELECT SUM(qty) FROM items"); });
  REQUIRE((*sum)->at(0).is_int());
  CHECK((*sum)->i64(0) == 12000000000LL);
}

STORE_TEST("a wrong statement is an error value, not a crash", "[store]") {
  TestStore store(store_kind);
  auto r = store.db().read([](db::Session& s) { return s.query("SELECT * FROM no_such_table"); });
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == db::kStoreError);
  CHECK(store.db().ping().ok());  // and the store still works
}

STORE_TEST("reads see a snapshot while a writer works", "[store]") {
  TestStore store(store_kind);
  make_table(store.db());
  REQUIRE(store.db()
              .write([](db::Session& s) -> Status {
                CUNHUO_TRY(s.exec("INSERT INTO items (name, qty) VALUES (?, ?)", {"x", 1}));
                return {};
              })
              .ok());
  auto seen = store.db().read([&](db::Session& s) -> Result<std::pair<std::int64_t, std::int64_t>> {
    auto before = CUNHUO_TRY(s.query_one("SELECT qty FROM items WHERE name = 'x'"));
    std::thread writer([&] {
      (void)store.db().write([](db::Session& w) -> Status {
        CUNHUO_TRY(w.exec("UPDATE items SET qty = 2 WHERE name = 'x'"));
        return {};
      });
    });
    writer.join();
    auto after = CUNHUO_TRY(s.query_one("SELECT qty FROM items WHERE name = 'x'"));
    return std::make_pair(before->i64(0), after->i64(0));
  });
  REQUIRE(seen.ok());
  CHECK(seen->first == 1);
  CHECK(seen->second == 1);
}

TEST_CASE("a dropped MariaDB connection is replaced and the work retried", "[store][mariadb]") {
  TestStore store(test::StoreKind::mariadb);
  auto id = store.db().read([](db::Session& s) { return s.query_one("SELECT CONNECTION_ID()"); });
  REQUIRE(id.ok());
  auto killer = store.reopen();
  REQUIRE(killer
              ->write([&](db::Session& s) -> Status {
                CUNHUO_TRY(s.exec("KILL " + std::to_string((*id)->i64(0))));
                return {};
              })
              .ok());
  // The pooled connection is dead now; the next transaction must still succeed.
  auto again = store.db().read([](db::Session& s) { return s.query_one("SELECT 1"); });
  REQUIRE(again.ok());
  CHECK((*again)->i64(0) == 1);
}

namespace {

// Transactions that stay open until the test lets them finish, each holding a connection.
class HeldTransactions {
 public:
  HeldTransactions(db::Database& db, int n) {
    for (int i = 0; i < n; ++i)
      threads_.emplace_back([this, &db] {
        Status held = db.read([this](db::Session& s) -> Status {
          CUNHUO_TRY(s.query("SELECT 1"));
          std::unique_lock lock(mu_);
          ++inside_;
          cv_.notify_all();
          cv_.wait_for(lock, std::chrono::seconds(60), [this] { return released_; });
          return {};
        });
        std::lock_guard lock(mu_);
        failures_ += held.ok() ? 0 : 1;
        cv_.notify_all();
      });
  }
  ~HeldTransactions() { release(); }
  // True once `n` are inside their transactions at the same time (false if one failed first).
  bool all_inside(int n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return inside_ == n || failures_ > 0; });
    return inside_ == n;
  }
  // Lets them commit and waits for them; returns how many failed.
  int release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    return failures_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int inside_ = 0, failures_ = 0;
  bool released_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

TEST_CASE("a MariaDB url with ?pool=N holds N transactions at once and no more",
          "[store][mariadb]") {
  TestStore store(test::StoreKind::mariadb);
  constexpr int kPool = 3;  // below the default of 8, so a pool that ignores the url holds more
  auto pooled = db::open_database(store.url() + "?pool=" + std::to_string(kPool));
  REQUIRE(pooled.ok());
  HeldTransactions held(**pooled, kPool);
  const bool all_inside = held.all_inside(kPool);
  // Every connection is taken: one more transaction waits for one, then says none is free.
  auto extra = (*pooled)->read([](db::Session& s) { return s.query_one("SELECT 1"); });
  CHECK(held.release() == 0);
  CHECK(all_inside);
  REQUIRE_FALSE(extra.ok());
  CHECK(extra.error().code == "store_busy_pool");
  // Once they are back, the pool serves again.
  CHECK((*pooled)->read([](db::Session& s) { return s.query_one("SELECT 1"); }).ok());
}

TEST_CASE(
    "one MariaDB connection taking turns refuses writes in reads only, and each read "
    "sees what was committed before it",
    "[store][mariadb]") {
  TestStore store(test::StoreKind::mariadb);
  make_table(store.db());
  auto one = db::open_database(store.url() + "?pool=1");  // every transaction on one session
  REQUIRE(one.ok());
  auto& db = **one;
  auto insert = [](const char* name) {
    return [name](db::Session& s) -> Status {
      CUNHUO_TRY(s.exec("INSERT INTO items (name, qty) VALUES (?, 1)", {name}));
      return {};
    };
  };
  auto count = [&db] {
    auto row = db.read([](db::Session& s) { return s.query_one("SELECT COUNT(*) FROM items"); });
    REQUIRE(row.ok());
    return (*row)->i64(0);
  };
  CHECK(count() == 0);
  CHECK_FALSE(db.read(insert("in a read")).ok());
  REQUIRE(db.write(insert("in a write")).ok());
  CHECK(count() == 1);
  // Another handle's commit: the next read on the session takes a new snapshot.
  REQUIRE(store.db().write(insert("elsewhere")).ok());
  CHECK(count() == 2);
  CHECK_FALSE(db.read(insert("in a read again")).ok());
  CHECK(count() == 2);
}

TEST_CASE("an unreachable MariaDB is reported as unavailable", "[store][mariadb]") {
  auto opened = db::open_database("mysql://nobody:wrong@127.0.0.1:1/nothing");
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().kind == ErrorKind::unavailable);
}

TEST_CASE("store urls are checked", "[store]") {
  CHECK(db::open_database("postgres://x/y").error().code == "invalid_db_url");
  CHECK(db::open_database("mysql://u:p@host:99999/x").error().code == "invalid_db_url");
  CHECK(db::open_database("mysql://u:p@host:3306/").error().code == "invalid_db_url");
  CHECK(db::open_database("mysql://u:p@host:3306/a;drop").error().code == "invalid_db_url");
  CHECK(db::open_database("sqlite:").error().code == "invalid_db_url");
  CHECK(db::open_database("mysql://u:p@h1:3306,/x").error().code == "invalid_db_url");
  CHECK(db::open_database("mysql://u:p@h1:3306,h2:0/x").error().code == "invalid_db_url");
}

namespace {
// The store's url with `hosts` put before its own host: "mysql://u:p@HOSTS,own:port/schema".
std::string with_hosts_before(const std::string& url, const std::string& hosts) {
  const auto at = url.find('@');
  return url.substr(0, at + 1) + hosts + "," + url.substr(at + 1);
}

std::int64_t connection_id(db::Database& db) {
  auto row = db.read([](db::Session& s) { return s.query_one("SELECT CONNECTION_ID()"); });
  REQUIRE(row.ok());
  return (*row)->i64(0);
}
}  // namespace

TEST_CASE("a MariaDB url naming several nodes works through the first that answers",
          "[store][mariadb][cluster]") {
  TestStore store(test::StoreKind::mariadb);
  make_table(store.db());
  // Port 1 refuses: the process goes on to the next node, the one that runs.
  auto several = db::open_database(with_hosts_before(store.url(), "127.0.0.1:1"));
  REQUIRE(several.ok());
  CHECK((*several)->describe().find("127.0.0.1:1,127.0.0.1:") != std::string::npos);
  auto wrote = (*several)->write([](db::Session& s) -> Status {
    CUNHUO_TRY(s.exec("INSERT INTO items (name, qty) VALUES ('蜜瓜', 1)"));
    return {};
  });
  CHECK(wrote.ok());
}

TEST_CASE("a transaction whose connection was cut before it began is retried on a new one",
          "[store][mariadb][cluster]") {
  TestStore store(test::StoreKind::mariadb);
  make_table(store.db());
  auto one = db::open_database(store.url() + "?pool=1");
  REQUIRE(one.ok());
  const std::int64_t first = connection_id(**one);
  // The node drops the idle connection (as a killed node's clients see it).
  REQUIRE(store.db()
              .write([&](db::Session& s) -> Status {
                CUNHUO_TRY(s.exec("KILL CONNECTION " + std::to_string(first)));
                return {};
              })
              .ok());
  auto wrote = (*one)->write([](db::Session& s) -> Status {
    CUNHUO_TRY(s.exec("INSERT INTO items (name, qty) VALUES ('蜜瓜', 1)"));
    return {};
  });
  REQUIRE(wrote.ok());
  CHECK(connection_id(**one) != first);
  auto count =
      store.db().read([](db::Session& s) { return s.query_one("SELECT COUNT(*) FROM items"); });
  REQUIRE(count.ok());
  CHECK((*count)->i64(0) == 1);
}

STORE_TEST("concurrent writers each commit or roll back on their own", "[store]") {
  // On SQLite these writes are group-committed; a failing body must not take its
  // neighbours down with it, nor leave anything behind.
  TestStore store(store_kind);
  make_table(store.db());
  std::atomic<int> committed{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const bool fail = (i % 3) == 0;
        auto st = store.db().write([&](db::Session& s) -> Status {
          CUNHUO_TRY(
              s.exec("INSERT INTO items (name, qty) VALUES (?, ?)",
                     {(fail ? "bad-" : "ok-") + std::to_string(t) + "-" + std::to_string(i), 1}));
          if (fail) return make_error(ErrorKind::invalid, "refused", "refused after writing");
          return {};
        });
        (st.ok() ? committed : refused)++;
      }
    });
  for (auto& t : threads) t.join();
  auto ok_rows = store.db().read([](db::Session& s) {
    return s.query_one("SELECT COUNT(*) FROM items WHERE name LIKE 'ok-%'");
  });
  auto bad_rows = store.db().read([](db::Session& s) {
    return s.query_one("SELECT COUNT(*) FROM items WHERE name LIKE 'bad-%'");
  });
  CHECK(committed.load() == 8 * 26);
  CHECK(refused.load() == 8 * 14);
  CHECK((*ok_rows)->i64(0) == committed.load());
  CHECK((*bad_rows)->i64(0) == 0);
}

STORE_TEST(
    "a write made from an asynchronous write's callback completes while another "
    "asynchronous write waits in line",
    "[store]") {
  // What a refused checkout does: its callback keeps the refusal with a write of its own.
  // On SQLite the callback runs on the thread that led the group commit, and behind it in
  // line is an asynchronous write whose caller has gone on.
  auto store = std::make_unique<TestStore>(store_kind);
  make_table(store->db());
  db::Database& db = store->db();
  std::promise<void> first_running, release_first;
  std::promise<Status> callback_wrote;
  auto insert = [](const char* name) {
    return [name](db::Session& s) -> Status {
      CUNHUO_TRY(s.exec("INSERT INTO items (name, qty) VALUES (?, ?)", {name, 1}));
      return {};
    };
  };
  std::thread leader([&] {
    db.write_async(
        [&](db::Session& s) -> Status {
          first_running.set_value();
          release_first.get_future().wait();
          return insert("first")(s);
        },
        [&](Status) { callback_wrote.set_value(db.write(insert("from the callback"))); });
  });
  first_running.get_future().wait();
  db.write_async(insert("queued"), [](Status) {});  // waits in line behind the first
  release_first.set_value();
  auto wrote = callback_wrote.get_future();
  if (wrote.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    leader.detach();
    (void)store.release();  // its writers are stuck for good: leave the store to the process
    FAIL("the callback's write never completed");
  }
  leader.join();
  CHECK(wrote.get().ok());
  auto rows = db.read([](db::Session& s) { return s.query_one("SELECT COUNT(*) FROM items"); });
  CHECK((*rows)->i64(0) == 3);
}
