// A MariaDB url naming several nodes (a Galera cluster): which node the pool settles on, when
// it leaves it and when it comes back. Each node here is reached through a TCP proxy the test
// can kill (its connections reset, new ones refused, as when the node's process dies) and
// revive on the same port; the store tells which proxy a connection passes through by the
// port it sees the connection come from. On one MariaDB both proxies lead to the same server;
// against a cluster (tests/cluster/run) to its first two nodes. Cases tagged [.galera] need a
// cluster and run only there.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "tests/support/support.hpp"

using namespace cunhuo;
using cunhuo::test::TestStore;

namespace {

struct Node {
  std::string host;
  int port = 0;
};

// "mysql://USER:PASS@H1:P1,H2:P2/SCHEMA" in its parts.
struct StoreUrl {
  std::string credentials, schema;  // "mysql://USER:PASS@", "SCHEMA"
  std::vector<Node> nodes;

  explicit StoreUrl(const std::string& url) {
    const auto at = url.find('@'), slash = url.find('/', at);
    credentials = url.substr(0, at + 1);
    schema = url.substr(slash + 1);
    std::string hosts = url.substr(at + 1, slash - at - 1) + ",";
    for (std::size_t from = 0, comma; (comma = hosts.find(',', from)) != std::string::npos;
         from = comma + 1) {
      const std::string one = hosts.substr(from, comma - from);
      const auto colon = one.rfind(':');
      nodes.push_back({one.substr(0, colon), std::stoi(one.substr(colon + 1))});
    }
  }
  // The url naming `ports` on loopback, in that order.
  std::string through(std::initializer_list<int> ports, const std::string& query = "") const {
    std::string hosts;
    for (int p : ports) hosts += (hosts.empty() ? "" : ",") + ("127.0.0.1:" + std::to_string(p));
    return credentials + hosts + "/" + schema + query;
  }
};

// A TCP forwarder standing for a database node.
class NodeProxy {
 public:
  explicit NodeProxy(Node target) : target_(std::move(target)) { listen_on(0); }
  ~NodeProxy() { kill(); }
  int port() const { return port_; }
  // The node dies: every connection through it is reset, and new ones are refused.
  void kill() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      if (listener_ < 0) return;
      ::shutdown(listener_, SHUT_RDWR);  // wakes the acceptor
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(pumps_);
    }
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : threads) t.join();
    std::lock_guard lock(mu_);
    ::close(listener_);
    listener_ = -1;
  }
  // The node is back, on the same port.
  void revive() { listen_on(port_); }
  // Whether the connection the server sees as coming from `port` passes through here.
  bool carries(int port) {
    std::lock_guard lock(mu_);
    return node_side_ports_.count(port) > 0;
  }
  int accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }

 private:
  void listen_on(int port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener_, 64) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this, fd = listener_] { accept_from(fd); });
  }

  void accept_from(int listener) {
    for (;;) {
      const int client = ::accept(listener, nullptr, nullptr);
      if (client < 0) return;  // killed
      const int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(static_cast<std::uint16_t>(target_.port));
      ::inet_pton(AF_INET, target_.host.c_str(), &to.sin_addr);
      if (::connect(server, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(server);
        ::close(client);
        continue;
      }
      sockaddr_in local{};
      socklen_t len = sizeof local;
      ::getsockname(server, reinterpret_cast<sockaddr*>(&local), &len);
      std::lock_guard lock(mu_);
      ++accepted_;
      open_.insert(client);
      open_.insert(server);
      node_side_ports_.insert(ntohs(local.sin_port));
      pumps_.emplace_back([this, client, server, from = int(ntohs(local.sin_port))] {
        pump(client, server);
        std::lock_guard done(mu_);
        open_.erase(client);
        open_.erase(server);
        node_side_ports_.erase(from);
        ::close(client);
        ::close(server);
      });
    }
  }

  // Copies both ways until either side closes.
  static void pump(int a, int b) {
    char buffer[16384];
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0) return;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents == 0) continue;
        const ssize_t n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
        if (n <= 0) return;
        for (ssize_t sent = 0; sent < n;) {
          const ssize_t m = ::send(fds[1 - i].fd, buffer + sent, n - sent, MSG_NOSIGNAL);
          if (m <= 0) return;
          sent += m;
        }
      }
    }
  }

  Node target_;
  std::mutex mu_;
  int listener_ = -1, port_ = 0, accepted_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> pumps_;
  std::set<int> open_;
  std::set<int> node_side_ports_;
};

// The port the server sees this transaction's connection come from.
Result<int> client_port(db::Session& s) {
  auto row = CUNHUO_TRY(
      s.query_one("SELECT host FROM information_schema.processlist WHERE id = CONNECTION_ID()"));
  if (!row) return make_error(ErrorKind::internal, "no_process", "not in the process list");
  const std::string host = row->str(0);
  return std::stoi(host.substr(host.rfind(':') + 1));
}
int client_port(db::Database& db) {
  auto port = db.read([](db::Session& s) { return client_port(s); });
  REQUIRE(port.ok());
  return *port;
}

std::int64_t connection_id(db::Session& s) {
  auto row = s.query_one("SELECT CONNECTION_ID()");
  REQUIRE(row.ok());
  return (*row)->i64(0);
}

bool connection_open(db::Database& db, std::int64_t id) {
  auto row = db.read([&](db::Session& s) {
    return s.query_one("SELECT COUNT(*) FROM information_schema.processlist WHERE id = ?", {id});
  });
  REQUIRE(row.ok());
  return (*row)->i64(0) == 1;
}

// The url's second node, or its first again when it names one only. On a cluster the test's
// schema, just created through the first node, may not be on the second yet: opening a store
// there creates it again (a DDL, ordered after the first), so that node has it when used.
Node second_node(const StoreUrl& url) {
  const Node second = url.nodes.at(url.nodes.size() > 1 ? 1 : 0);
  REQUIRE(db::open_database(url.credentials + second.host + ":" + std::to_string(second.port) +
                            "/" + url.schema)
              .ok());
  return second;
}

}  // namespace

TEST_CASE("a query cut off on a node that still answers costs its own connection only",
          "[store][mariadb][cluster][failover]") {
  TestStore store(test::StoreKind::mariadb);
  const StoreUrl url(store.url());
  NodeProxy first(url.nodes[0]), second(second_node(url));
  auto opened = db::open_database(url.through({first.port(), second.port()}, "?pool=2"));
  REQUIRE(opened.ok());
  db::Database& db = **opened;
  // Two connections in the pool, both to the first node.
  std::int64_t ids[2] = {0, 0};
  REQUIRE(db.read([&](db::Session& outer) -> Status {
              ids[0] = connection_id(outer);
              return db.read([&](db::Session& inner) -> Status {
                ids[1] = connection_id(inner);
                return {};
              });
            }).ok());
  // A query on one of them is cut off (as the read timeout or KILL cuts a slow ledger scan).
  std::promise<std::int64_t> running;
  Status killed;
  std::thread killer([&] {
    const std::int64_t victim = running.get_future().get();
    killed = store.db().write([&](db::Session& s) -> Status {
      CUNHUO_TRY(s.exec("KILL CONNECTION " + std::to_string(victim)));
      return {};
    });
  });
  int attempts = 0;
  std::int64_t victim = 0;
  auto cut = db.read([&](db::Session& s) -> Status {
    if (++attempts > 1) return {};  // the retry, on another connection
    victim = connection_id(s);
    running.set_value(victim);
    CUNHUO_TRY(s.query("SELECT SLEEP(30)"));
    return {};
  });
  killer.join();
  REQUIRE(killed.ok());
  CHECK(cut.ok());
  CHECK(attempts == 2);
  // The other connection was kept, and nothing went to the second node.
  const std::int64_t other = victim == ids[0] ? ids[1] : ids[0];
  CHECK(connection_open(store.db(), other));
  CHECK(second.accepted() == 0);
  CHECK(first.carries(client_port(db)));
}

TEST_CASE(
    "a pool whose node dies moves to the next node, and comes back to the first once it "
    "has answered again kFailBackAfter later",
    "[store][mariadb][cluster][failover]") {
  TestStore store(test::StoreKind::mariadb);
  const StoreUrl url(store.url());
  NodeProxy first(url.nodes[0]), second(second_node(url));
  ManualClock clock(1'800'000'000'000);
  auto opened = db::open_database(url.through({first.port(), second.port()}),
                                  db::DatabaseOptions{.clock = &clock});
  REQUIRE(opened.ok());
  db::Database& db = **opened;
  REQUIRE(first.carries(client_port(db)));

  first.kill();
  CHECK(second.carries(client_port(db)));  // the transaction itself went through

  first.revive();  // back, but not asked again yet
  const int asked = first.accepted();
  CHECK(second.carries(client_port(db)));
  clock.advance(std::chrono::milliseconds(db::kFailBackAfter) - std::chrono::milliseconds(1));
  CHECK(second.carries(client_port(db)));
  CHECK(first.accepted() == asked);
  clock.advance(std::chrono::milliseconds(1));
  CHECK(first.carries(client_port(db)));
  CHECK(first.carries(client_port(db)));  // and stays there
}

TEST_CASE("a pool whose first node is still dead kFailBackAfter later stays where it is",
          "[store][mariadb][cluster][failover]") {
  TestStore store(test::StoreKind::mariadb);
  const StoreUrl url(store.url());
  NodeProxy first(url.nodes[0]), second(second_node(url));
  ManualClock clock(1'800'000'000'000);
  auto opened = db::open_database(url.through({first.port(), second.port()}),
                                  db::DatabaseOptions{.clock = &clock});
  REQUIRE(opened.ok());
  db::Database& db = **opened;
  first.kill();
  REQUIRE(second.carries(client_port(db)));
  clock.advance(db::kFailBackAfter);
  CHECK(second.carries(client_port(db)));  // asked the first, which refused: no error here
  first.revive();
  CHECK(second.carries(client_port(db)));  // asked again only another kFailBackAfter later
  clock.advance(db::kFailBackAfter);
  CHECK(first.carries(client_port(db)));
}

namespace {
// Makes one Galera node Desynced (wsrep_desync=ON) for the life of the object.
class Desynced {
 public:
  Desynced(const StoreUrl& url, const Node& node) {
    auto opened = db::open_database(url.credentials + node.host + ":" + std::to_string(node.port) +
                                    "/" + url.schema);
    REQUIRE(opened.ok());
    db_ = std::move(*opened);
    REQUIRE(set("ON").ok());
  }
  ~Desynced() { CHECK(set("OFF").ok()); }
  std::string state() {
    auto row = db_->read(
        [](db::Session& s) { return s.query_one("SHOW STATUS LIKE 'wsrep_local_state_comment'"); });
    REQUIRE(row.ok());
    return (*row)->str(1);
  }

 private:
  Status set(const char* on) {
    return db_->write([on](db::Session& s) -> Status {
      CUNHUO_TRY(s.exec(std::string("SET GLOBAL wsrep_desync = ") + on));
      return {};
    });
  }
  std::unique_ptr<db::Database> db_;
};

int server_port(db::Database& db) {
  auto row = db.read([](db::Session& s) { return s.query_one("SELECT @@port"); });
  REQUIRE(row.ok());
  return static_cast<int>((*row)->i64(0));
}
}  // namespace

TEST_CASE("a Galera node that is Desynced is passed over for the next that is Synced",
          "[store][mariadb][.galera]") {
  TestStore store(test::StoreKind::mariadb);
  const StoreUrl url(store.url());
  INFO("needs CUNHUO_TEST_MYSQL naming 2+ Galera nodes: bash tests/cluster/run runs it");
  REQUIRE(url.nodes.size() >= 2);
  REQUIRE(server_port(store.db()) == url.nodes[0].port);
  Desynced desynced(url, url.nodes[0]);
  CHECK(desynced.state() != "Synced");
  auto opened = db::open_database(store.url());
  REQUIRE(opened.ok());
  CHECK(server_port(**opened) == url.nodes[1].port);
}
