#include "io/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OUTPOST_CPU_RELAX() _mm_pause()
#else
#define OUTPOST_CPU_RELAX() std::this_thread::yield()
#endif

namespace outpost::io {
namespace {

// True on pool workers for their whole life, and on a caller while it works inside
// ParallelFor: a ParallelFor issued from such a thread runs inline (nested parallelism would
// wait on workers that are busy with the outer loop).
thread_local bool tls_inside_pool = false;

// How long a worker that just finished a job keeps polling for the next one before sleeping.
// An Invoke issues one parallel loop per operator, microseconds apart; a futex wake-up costs
// about as much as a small operator, while 50 us of polling per gap is negligible and bounded.
constexpr auto kSpin = std::chrono::microseconds(50);

}  // namespace

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
  executor_.parallel_for = &ThreadPool::ExecutorEntry;
  executor_.self = this;
  executor_.threads = threads_;
  workers_.reserve(threads_ - 1);
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);  // ends any spin
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::ExecutorEntry(void* self, int64_t n, int64_t grain, Fn fn, void* arg) {
  static_cast<ThreadPool*>(self)->ParallelFor(n, grain, fn, arg);
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain, Fn fn, void* arg) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  // Chunks of at least `grain` each, one per thread at most: contiguous ranges keep each
  // thread on its own part of the output (no false sharing, good prefetching).
  const int64_t chunks = std::min<int64_t>(threads_, n / grain);
  if (chunks <= 1 || tls_inside_pool) {
    fn(arg, 0, n);
    return;
  }
  std::unique_lock<std::mutex> call(call_mu_, std::try_to_lock);
  if (!call.owns_lock()) {  // another thread is using the pool: do not wait for it
    fn(arg, 0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = fn;
    arg_ = arg;
    n_ = n;
    chunks_ = chunks;
    next_chunk_.store(0, std::memory_order_relaxed);
    open_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  tls_inside_pool = true;
  RunChunks();
  tls_inside_pool = false;
  // Every chunk is claimed now; wait for the workers still running theirs. Closing the job
  // first keeps late wakers out, so the job fields can be rewritten by the next call.
  std::unique_lock<std::mutex> lock(mu_);
  open_ = false;
  done_.wait(lock, [this] { return in_job_ == 0; });
}

void ThreadPool::RunChunks() {
  const int64_t base = n_ / chunks_;
  const int64_t rem = n_ % chunks_;
  for (;;) {
    const int64_t i = next_chunk_.fetch_add(1, std::memory_order_relaxed);
    if (i >= chunks_) return;
    // The first `rem` chunks are one longer: sizes differ by at most 1.
    const int64_t begin = i * base + std::min(i, rem);
    const int64_t end = begin + base + (i < rem ? 1 : 0);
    fn_(arg_, begin, end);
  }
}

void ThreadPool::WorkerLoop() {
  tls_inside_pool = true;
  // 0, not the current value: a job posted before this thread got scheduled must still be
  // seen as new (the constructor starts the workers with generation_ at 0).
  uint64_t seen = 0;
  for (;;) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    while (generation_.load(std::memory_order_acquire) == seen) {
      for (int k = 0; k < 64; ++k) OUTPOST_CPU_RELAX();
      if (std::chrono::steady_clock::now() >= deadline) break;
    }
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
    if (stop_) return;
    seen = generation_.load(std::memory_order_relaxed);
    if (!open_) continue;  // woke after the job had finished
    ++in_job_;
    lock.unlock();
    RunChunks();  // job fields are stable: the caller waits for in_job_ == 0 to change them
    lock.lock();
    if (--in_job_ == 0) done_.notify_one();
  }
}

int PhysicalCoreCount() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  const bool have_mask = sched_getaffinity(0, sizeof(mask), &mask) == 0;
  std::set<std::pair<long, long>> cores;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (have_mask && !CPU_ISSET(cpu, &mask)) continue;
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream core_file(dir + "core_id"), package_file(dir + "physical_package_id");
    long core = -1, package = -1;
    if (!(core_file >> core) || !(package_file >> package)) {
      if (!have_mask) break;  // without a mask, the first missing CPU ends the list
      continue;
    }
    cores.insert({package, core});
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  if (have_mask && CPU_COUNT(&mask) > 0) return CPU_COUNT(&mask);
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

}  // namespace outpost::io
