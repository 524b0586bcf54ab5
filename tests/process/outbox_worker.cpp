// A process that dispatches outbox events, so a test can SIGKILL it mid-flight.
//   outbox_worker URL dispatch HANG_AT   handle every due "probe.tick" event, then exit 0
// Each handling inserts one row into probe_effects in the handler's transaction. With
// HANG_AT above 0, the HANG_AT-th handling never finishes: it waits, its transaction open,
// for the signal that kills the process, so the kill lands while events are still pending;
// it says so on its standard output first ("hanging in handling HANG_AT").
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/db/database.hpp"
#include "core/log.hpp"
#include "core/outbox/outbox.hpp"

int main(int argc, char** argv) {
  if (argc != 4 || std::string(argv[2]) != "dispatch") {
    std::fprintf(stderr, "usage: outbox_worker URL dispatch HANG_AT\n");
    return 2;
  }
  cunhuo::init_logging("warn");
  auto db = cunhuo::db::open_database(argv[1]);
  if (!db.ok()) {
    std::fprintf(stderr, "open failed: %s\n", db.error().message.c_str());
    return 1;
  }
  const int hang_at = std::stoi(argv[3]);
  int handled = 0;
  cunhuo::SystemClock clock;
  cunhuo::outbox::Dispatcher dispatcher(**db, clock);
  dispatcher.subscribe(
      "probe", "probe.tick",
      [&](cunhuo::db::Session& tx, const cunhuo::outbox::Event& e) -> cunhuo::Status {
        CUNHUO_TRY(tx.exec("INSERT INTO probe_effects (event_id) VALUES (?)", {e.id}));
        if (++handled == hang_at) {
          // The line the test waits for before it kills: every handling before this one is
          // committed, this one is open.
          std::printf("hanging in handling %d, its transaction open\n", handled);
          std::fflush(stdout);
          for (;;) ::pause();  // until killed
        }
        return {};
      });
  auto done = dispatcher.drain(100000);
  if (!done.ok()) {
    std::fprintf(stderr, "dispatch failed: %s\n", done.error().message.c_str());
    return 1;
  }
  return 0;
}
