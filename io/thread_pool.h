// A host thread pool behind the runtime's Executor (runtime/kernel.h): the core never creates
// threads, so the host owns them and hands the interpreter an Executor that splits loops here.
//
// `threads` counts the calling thread: ThreadPool(4) starts 3 workers and the thread that
// calls ParallelFor does a share of the work too. Idle workers sleep on a condition variable
// (after a short bounded spin, so back-to-back operators of one Invoke do not pay a futex
// wake-up each), so a pool costs no CPU between runs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/kernel.h"

namespace outpost::io {

class ThreadPool {
 public:
  using Fn = void (*)(void* arg, int64_t begin, int64_t end);

  // threads >= 1; 1 means no workers (ParallelFor runs inline).
  explicit ThreadPool(int threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  // Wakes and joins every worker; must not race with a running ParallelFor.
  ~ThreadPool();

  int threads() const { return threads_; }

  // Calls fn on disjoint contiguous ranges covering [0, n), each at least `grain` long (except
  // when n < grain), and returns when all are done. At most threads() ranges. A call made
  // from inside fn, or while another thread's call is running, runs inline on its caller:
  // nesting never deadlocks and never oversubscribes.
  void ParallelFor(int64_t n, int64_t grain, Fn fn, void* arg);

  // An Executor for Interpreter::set_executor; valid while the pool lives.
  const Executor& executor() const { return executor_; }

 private:
  static void ExecutorEntry(void* self, int64_t n, int64_t grain, Fn fn, void* arg);
  void WorkerLoop();
  // Takes chunks of the current job until none is left.
  void RunChunks();

  const int threads_;
  Executor executor_;
  std::vector<std::thread> workers_;

  // Serializes top-level calls; a second concurrent caller runs inline instead of waiting.
  std::mutex call_mu_;

  // The current job; written by the caller under mu_ while no worker is inside it.
  std::mutex mu_;
  std::condition_variable wake_;  // workers: a new job or stop
  std::condition_variable done_;  // caller: the last worker left the job
  Fn fn_ = nullptr;
  void* arg_ = nullptr;
  int64_t n_ = 0;
  int64_t chunks_ = 0;
  bool open_ = false;  // workers may join the job
  bool stop_ = false;
  int in_job_ = 0;  // workers currently inside the job (guarded by mu_)
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_chunk_{0};
};

// Physical cores this process may run on: distinct (package, core) pairs from
// /sys/devices/system/cpu/cpu*/topology among the CPUs of the affinity mask, so SMT siblings
// count once. Falls back to std::thread::hardware_concurrency(), and to 1.
int PhysicalCoreCount();

}  // namespace outpost::io
