// Writing to a pipe whose reader is gone raises SIGPIPE, which ends the process by default.
// An action must see that as an EPIPE error instead, without changing the process-wide
// disposition: while a guard lives SIGPIPE is blocked in this thread, and one raised meanwhile
// is consumed before unblocking.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <ctime>

namespace outpost::pipeline {

class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    // A SIGPIPE already pending for the process is someone else's to handle.
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      const timespec zero = {0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

}  // namespace outpost::pipeline
