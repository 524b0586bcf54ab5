#include "tests/support/processes.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <random>
#include <set>
#include <stdexcept>

namespace cunhuo::test {
namespace {

bool nothing_bound_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return bound;
}

int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::uint16_t free_test_port() {
  static std::mutex mu;
  static std::mt19937 pick(std::random_device{}());
  static std::set<std::uint16_t> handed_out;  // not yet bound by whoever got them, maybe
  std::lock_guard lock(mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto port = static_cast<std::uint16_t>(kFirstTestPort + pick() % kTestPorts);
    if (!handed_out.contains(port) && nothing_bound_to(port)) {
      handed_out.insert(port);
      return port;
    }
  }
  throw std::runtime_error("no free port below the ephemeral range");
}

ChildProcess::ChildProcess(const std::vector<std::string>& args, const std::string& log_path) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  reader_ = std::thread([this, fd = out[0], log_path] { read_output(fd, log_path); });
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  // The pipe closes once the process and any child it left holding it are gone.
  if (reader_.joinable()) reader_.join();
}

// Copies the process's output to the log as it comes, and wakes whoever waits on a line.
void ChildProcess::read_output(int fd, const std::string& log_path) {
  std::FILE* log = std::fopen(log_path.c_str(), "w");
  char buf[4096];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (log) {
      std::fwrite(buf, 1, static_cast<std::size_t>(n), log);
      std::fflush(log);
    }
    std::lock_guard lock(mu_);
    output_.append(buf, static_cast<std::size_t>(n));
    changed_.notify_all();
  }
  if (log) std::fclose(log);
  ::close(fd);
  std::lock_guard lock(mu_);
  output_closed_ = true;
  changed_.notify_all();
}

bool ChildProcess::wait_for_output(const std::string& text, std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  std::size_t at = std::string::npos;
  changed_.wait_for(lock, limit, [&] {
    at = output_.find(text, matched_to_);
    return at != std::string::npos || output_closed_;
  });
  if (at == std::string::npos) return false;
  matched_to_ = at + text.size();
  return true;
}

void ChildProcess::signal(int signal) {
  if (!reaped_) ::kill(pid_, signal);
}

// A pidfd becomes readable when the process ends: poll waits for that, or the deadline.
int ChildProcess::wait_exit(std::chrono::milliseconds limit) {
  if (reaped_) return exit_status_;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd < 0) throw std::runtime_error("pidfd_open failed");
  pollfd ended{.fd = pidfd, .events = POLLIN, .revents = 0};
  int ready;
  do {
    ready = ::poll(&ended, 1, static_cast<int>(limit.count()));
  } while (ready < 0 && errno == EINTR);
  ::close(pidfd);
  if (ready <= 0) ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  reaped_ = true;
  exit_status_ = ready > 0 ? exit_code(status) : -1;
  return exit_status_;
}

}  // namespace cunhuo::test
