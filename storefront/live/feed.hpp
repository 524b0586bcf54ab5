// The live feed: `GET /live`, a WebSocket (RFC 6455, on Boost.Beast) on the pages' host
// and port. The upgrade arrives through the HTTP server (server.hpp), which hands the
// socket over (UpgradeAnswer::take); from then on the connection lives on the feed's own
// asio thread. Every event committed to the outbox is pushed, once, to each connected
// account the access policy lets see it (reach.hpp), as a text frame
//   {"id": 42, "type": "order.paid", "at": <ms since the epoch>, "data": {...}}
// with `data` the event's payload (ids and amounts, no personal data).
//
// The upgrade is authenticated by the page session cookie or `Authorization: Bearer`
// (never a token in the URL): without a valid session it is a 401, before switching.
// `/live?after=ID` resumes after the last event the client saw: the events since then, up
// to kResumeBacklog of them, then, when more were missed, {"type": "reload"} (whose id is
// where to resume from after reloading). An ID from the future is a 400 before switching.
//
// Limits: each connection queues at most kSendQueueFrames frames or kSendQueueBytes bytes
// for its client; a client slower than that is dropped with close code 1013 (try again
// later) and its queue freed; the pongs it owes count too, so a client that pings and
// does not read is dropped the same way. A client frame RFC 6455 forbids (unmasked, a
// reserved bit or opcode, a control frame fragmented or over 125 bytes, a fragment out of
// sequence, a malformed close) is closed with 1002; then a message whose fragments together
// pass kMaxClientFrameBytes with 1009 (too big); then any message but ping, pong and close
// with 1008 (policy violation). The server pings a connection idle for half of
// kIdleTimeout and closes one that stays silent for all of it.
//
// A connection does not outlive its session: every kSessionRecheck the feed asks Auth
// again whether the connection's token still opens a session; once it does not (logged
// out, expired, the account gone) the connection is closed with kCloseSessionEnded. An
// account whose fields changed (its area, its node) gets its new filter at the same time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/auth.hpp"
#include "storefront/server.hpp"

namespace cunhuo::storefront::live {

inline constexpr const char* kPath = "/live";
inline constexpr std::size_t kSendQueueFrames = 1024;
inline constexpr std::size_t kSendQueueBytes = 1 << 20;
inline constexpr std::size_t kMaxClientFrameBytes = 4 * 1024;  // a message, fragments together
inline constexpr std::int64_t kResumeBacklog = 500;            // events read after the resume id
inline constexpr std::chrono::seconds kIdleTimeout{40};
inline constexpr std::chrono::seconds kHandshakeTimeout{10};
inline constexpr std::chrono::milliseconds kTailEvery{5};  // how often the outbox is read
inline constexpr std::int64_t kTailBatch = 512;            // events read per pass
// How long an outbox id missing below ones already committed is waited for (a transaction
// that took its id first and commits later) before it is taken as never committed.
inline constexpr std::chrono::milliseconds kHoleWait{2000};
// Holes are looked for by id this often, the lowest kMaxHoleProbe of them at a time.
inline constexpr std::chrono::milliseconds kHoleProbeEvery{50};
inline constexpr std::size_t kMaxHoleProbe = 256;
inline constexpr std::size_t kMaxConnections = 10'000;
// One account, or one address (a centre's office behind one NAT), may not fill the feed.
inline constexpr int kMaxConnectionsPerAccount = 8;
inline constexpr int kMaxConnectionsPerAddress = 64;
inline constexpr std::chrono::milliseconds kCloseGrace{1000};  // for a dropped client's close
inline constexpr std::uint16_t kCloseTooSlow = 1013;
inline constexpr std::uint16_t kClosePolicy = 1008;
inline constexpr std::uint16_t kCloseTooBig = 1009;
inline constexpr std::uint16_t kCloseProtocol = 1002;  // a malformed or unmasked client frame
// Private-use code (RFC 6455 7.4.2): the session behind the connection ended; log in again.
inline constexpr std::uint16_t kCloseSessionEnded = 4001;
inline constexpr std::chrono::seconds kSessionRecheck{15};
// Connections are spread over this many asio threads (each its own io_context).
inline constexpr int kIoThreads = 2;
inline constexpr std::size_t kMaxGatheredFrames = 64;  // frames per write system call

// What the feed is doing, for tests and metrics.
struct FeedStats {
  std::size_t connections = 0;       // open and live: past the handshake and any backlog
  std::size_t queued_bytes = 0;      // waiting to be written, over all connections
  std::size_t peak_queue_bytes = 0;  // the most one connection ever held
  std::int64_t dropped_slow = 0;     // closed with kCloseTooSlow
  std::int64_t closed_policy = 0;    // closed for a message or frame the client may not send
  std::int64_t closed_session = 0;   // closed with kCloseSessionEnded
  std::int64_t session_checks = 0;   // re-checks of connections' sessions done
  std::int64_t tailed_through = 0;   // the highest outbox event id handed out
};

class Feed {
 public:
  Feed(db::Database& db, Auth& auth, const Clock& clock);
  ~Feed();
  Feed(const Feed&) = delete;
  Feed& operator=(const Feed&) = delete;

  void start();  // the tailing and the connections' threads
  void stop();   // closes every connection (1001, going away)

  // For the HTTP server's `upgrades` at kPath.
  UpgradeAnswer upgrade(const Request& request);

  FeedStats stats() const;
  // Waits (on a condition, not by polling) until `done(stats())` or `timeout`.
  bool wait_until(const std::function<bool(const FeedStats&)>& done,
                  std::chrono::milliseconds timeout);

 private:
  struct Impl;
  friend struct Session;  // a connection, in feed.cpp
  std::shared_ptr<Impl> impl_;
};

}  // namespace cunhuo::storefront::live
