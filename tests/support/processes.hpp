// Programs a test runs as processes of their own: a port to give one, its output watched
// for the line that says it is ready, and its exit awaited, each with a deadline, so that a
// test waits on what the process says and does instead of sleeping and asking again.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cunhuo::test {

// Ports a test hands to a process it starts: below Linux's ephemeral range (32768-60999),
// so that a listener bound to port 0 meanwhile (the payment sandbox's, in the service
// before its own) cannot be given the port picked here. deploy/tests/support.sh picks from
// the same range for the shell tests.
constexpr int kFirstTestPort = 20000, kTestPorts = 12000;

// A loopback port in that range that nothing is bound to now and that this process has not
// handed out before.
std::uint16_t free_test_port();

// A program started with `args` (args[0] its path); its standard output and error go to
// `log_path` and are watched. Killed (SIGKILL) and reaped when dropped still running.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& args, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits, up to `limit`, for output holding `text` after what the previous call matched;
  // false when it did not come in time or the process closed its output first.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds limit);
  // Sends `signal` to the process (while it has not been reaped).
  void signal(int signal);
  // Waits, up to `limit`, for the process to end: its exit status, or 128 + the signal that
  // ended it; -1 when it did not end in time (it is then killed).
  int wait_exit(std::chrono::milliseconds limit);

 private:
  void read_output(int fd, const std::string& log_path);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_status_ = -1;
  std::mutex mu_;
  std::condition_variable changed_;
  std::string output_;
  std::size_t matched_to_ = 0;  // output before this was matched already
  bool output_closed_ = false;
  std::thread reader_;
};

}  // namespace cunhuo::test
