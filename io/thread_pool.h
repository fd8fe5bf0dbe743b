// A host thread pool behind the runtime's Executor (runtime/kernel.h): the core never creates
// threads, so the host owns them and hands the interpreter an Executor that splits loops here.
//
// `threads` counts the calling thread: ThreadPool(4) starts 3 workers and the thread that
// calls ParallelFor does a share of the work too.
//
// Cost model (measured on a 2-core VM, see docs/performance.md): an Invoke of MobileNetV2 makes
// 54 parallel calls (64 in int8) of typically 50-100 us each, and a futex wake-up of a sleeping
// thread costs 30-100 us there, as much as a call. Hence the fast path takes no lock and makes
// no system call: the caller publishes a job with one atomic store, workers and caller claim
// chunks with compare-and-swap, and the caller polls for the last chunk. Threads only sleep
// when polling has found nothing for a bounded time (a short spin after the last job, a longer
// one between RunBegin and RunEnd, which Session::Run puts around each Invoke), so an idle pool
// costs no CPU.
#pragma once

#include <atomic>
#include <chrono>
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

  // More chunks than threads: when a worker starts late (it was asleep or descheduled), the
  // threads already running take the chunks it has not reached, instead of waiting for it.
  static constexpr int kChunksPerThread = 4;
  static constexpr int kMaxThreads = 256;

  // threads in [1, kMaxThreads] (clamped); 1 means no workers (ParallelFor runs inline).
  explicit ThreadPool(int threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  // Wakes and joins every worker; must not race with a running ParallelFor.
  ~ThreadPool();

  int threads() const { return threads_; }

  // Calls fn on disjoint contiguous ranges covering [0, n), each at least `grain` long (except
  // when n < grain), and returns when all are done. At most kChunksPerThread * threads()
  // ranges, run by at most threads() threads at once. A call made from inside fn, or while
  // another thread's call is running, runs inline on its caller: nesting never deadlocks and
  // never oversubscribes.
  void ParallelFor(int64_t n, int64_t grain, Fn fn, void* arg);

  // Between RunBegin and RunEnd (one Invoke), idle threads poll for the next call longer
  // before they sleep: the serial operators between two parallel ones then cost no wake-up.
  // Calls nest by counting; after the outermost RunEnd threads sleep again soon.
  void RunBegin();
  void RunEnd();

  // An Executor for Interpreter::set_executor; valid while the pool lives.
  const Executor& executor() const { return executor_; }

 private:
  static void ExecutorEntry(void* self, int64_t n, int64_t grain, Fn fn, void* arg);
  void WorkerLoop(int self);
  // Polls, then sleeps, until the job generation differs from `seen`. False on stop.
  bool WaitForJob(uint64_t seen);
  // Claims and runs chunks of job `generation` until none is left: thread `self`'s own
  // first, front to back, then the last ones of the others'.
  void RunChunks(uint64_t generation, int self);
  // The next chunk of thread `self`'s own (-1: none left, or the job is over).
  int64_t ClaimOwn(uint64_t generation, int self);
  // The last unclaimed chunk of another thread's (-1: none left).
  int64_t Steal(uint64_t generation, int self);
  // The caller's wait for the last chunk of a job of `chunks` chunks.
  void WaitForDone(uint64_t chunks);
  // How long an idle thread polls before it sleeps (longer inside RunBegin/RunEnd).
  std::chrono::steady_clock::duration SpinLimit() const;

  const int threads_;
  Executor executor_;
  std::vector<std::thread> workers_;

  // Serializes top-level calls; a second concurrent caller runs inline instead of waiting.
  std::mutex call_mu_;

  // The current job's generation and chunk count: [generation:32][chunks:16][unused:16]. A
  // claimed chunk keeps the job fields below stable: the caller rewrites them only after every
  // chunk has been reported in done_.
  std::atomic<uint64_t> work_{0};
  // Each thread's own chunks (thread 0 is the caller), [generation:32][end:16][next:16], so that
  // one compare-and-swap both checks that the job is still the one a thread saw and claims a
  // chunk. The owner takes its chunks from the front, in order, so on an evenly loaded
  // machine each thread runs one contiguous range, as a static split would (a kernel's tasks
  // next to each other share their inputs in that core's cache); a thread with none left takes
  // the last ones of another's, so one that was descheduled or started late holds up only the
  // chunk it is running. One cache line each: the owners' claims do not contend.
  struct alignas(64) Span {
    std::atomic<uint64_t> w{0};
  };
  Span spans_[kMaxThreads];
  std::atomic<uint64_t> done_{0};  // chunks of the current job finished
  Fn fn_ = nullptr;
  void* arg_ = nullptr;
  int64_t n_ = 0;

  std::atomic<int> running_{0};  // RunBegin nesting depth
  std::atomic<bool> stop_{false};

  // Sleeping: workers wait on wake_ for a new generation, the caller on done_cv_ for the last
  // chunk. The counters let the other side skip the lock and the system call when nobody
  // sleeps (all accesses sequentially consistent, so a sleeper and a waker cannot miss each
  // other).
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_cv_;
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
};

// Physical cores this process may run on: distinct (package, core) pairs from
// /sys/devices/system/cpu/cpu*/topology among the CPUs of the affinity mask, so SMT siblings
// count once. Falls back to std::thread::hardware_concurrency(), and to 1.
int PhysicalCoreCount();

}  // namespace outpost::io
