#include "io/thread_pool.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

// How long an idle thread polls before it sleeps. Outside a run, kSpin after the last job:
// enough to bridge back-to-back calls, negligible CPU. Inside one, up to kRunSpin: a futex
// wake-up costs 30-100 us on a virtual machine, so polling through the serial operators
// between two parallel ones pays, while after a gap of kRunSpin one wake-up costs at most
// ~10% more. The bound also keeps a forgotten RunEnd from polling forever.
constexpr auto kSpin = std::chrono::microseconds(50);
constexpr auto kRunSpin = std::chrono::microseconds(500);
// Polling starts with pause instructions (a new job is seen within ~0.1 us); after kPauseSpin
// it yields the CPU between polls, so that on a machine with more runnable threads than cores
// a polling thread does not take time from the thread it waits for, or from other processes
// (docs/performance.md has the measurement).
constexpr auto kPauseSpin = std::chrono::microseconds(20);

constexpr uint64_t kFieldMask = 0xffff;

uint64_t Generation(uint64_t w) { return w >> 32; }
uint64_t Chunks(uint64_t w) { return (w >> 16) & kFieldMask; }
// A span word: [generation:32][end:16][next:16].
uint64_t SpanEnd(uint64_t w) { return (w >> 16) & kFieldMask; }
uint64_t SpanNext(uint64_t w) { return w & kFieldMask; }

// Polls `ready` until it returns true or `limit` has passed.
template <class Ready, class Limit>
bool Poll(Ready ready, Limit limit) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int k = 0; k < 16; ++k) {
      if (ready()) return true;
      OUTPOST_CPU_RELAX();
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (elapsed >= limit()) return ready();
    if (elapsed >= kPauseSpin) std::this_thread::yield();
  }
}

}  // namespace

ThreadPool::ThreadPool(int threads) : threads_(std::clamp(threads, 1, kMaxThreads)) {
  executor_.parallel_for = &ThreadPool::ExecutorEntry;
  executor_.self = this;
  executor_.threads = threads_;
  workers_.reserve(threads_ - 1);
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::ExecutorEntry(void* self, int64_t n, int64_t grain, Fn fn, void* arg) {
  static_cast<ThreadPool*>(self)->ParallelFor(n, grain, fn, arg);
}

std::chrono::steady_clock::duration ThreadPool::SpinLimit() const {
  if (running_.load(std::memory_order_relaxed) > 0) return kRunSpin;
  return kSpin;
}

void ThreadPool::RunBegin() { running_.fetch_add(1, std::memory_order_relaxed); }
void ThreadPool::RunEnd() { running_.fetch_sub(1, std::memory_order_relaxed); }

void ThreadPool::ParallelFor(int64_t n, int64_t grain, Fn fn, void* arg) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t chunks = std::min<int64_t>(int64_t{threads_} * kChunksPerThread, n / grain);
  if (chunks <= 1 || threads_ == 1 || tls_inside_pool) {
    fn(arg, 0, n);
    return;
  }
  std::unique_lock<std::mutex> call(call_mu_, std::try_to_lock);
  if (!call.owns_lock()) {  // another thread is using the pool: do not wait for it
    fn(arg, 0, n);
    return;
  }
  // No thread is inside the previous job (its chunks are all done), so its fields are free.
  fn_ = fn;
  arg_ = arg;
  n_ = n;
  done_.store(0, std::memory_order_relaxed);
  const uint64_t generation = Generation(work_.load(std::memory_order_relaxed)) + 1;
  // Thread i's own chunks: [i * chunks / threads, (i + 1) * chunks / threads).
  for (int i = 0; i < threads_; ++i) {
    const uint64_t next = static_cast<uint64_t>(i * chunks / threads_);
    const uint64_t end = static_cast<uint64_t>((i + 1) * chunks / threads_);
    spans_[i].w.store((generation << 32) | (end << 16) | next, std::memory_order_relaxed);
  }
  work_.store((generation << 32) | (static_cast<uint64_t>(chunks) << 16));  // seq_cst: publish
  if (sleeping_workers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_.notify_all();
  }
  tls_inside_pool = true;
  RunChunks(generation, 0);
  tls_inside_pool = false;
  WaitForDone(static_cast<uint64_t>(chunks));
}

int64_t ThreadPool::ClaimOwn(uint64_t generation, int self) {
  std::atomic<uint64_t>& span = spans_[self].w;
  uint64_t w = span.load(std::memory_order_acquire);
  for (;;) {
    if (Generation(w) != generation || SpanNext(w) >= SpanEnd(w)) return -1;
    if (span.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      return static_cast<int64_t>(SpanNext(w));
  }
}

int64_t ThreadPool::Steal(uint64_t generation, int self) {
  for (int d = 1; d < threads_; ++d) {
    std::atomic<uint64_t>& span = spans_[(self + d) % threads_].w;
    uint64_t w = span.load(std::memory_order_acquire);
    for (;;) {
      if (Generation(w) != generation || SpanNext(w) >= SpanEnd(w)) break;
      if (span.compare_exchange_weak(w, w - (uint64_t{1} << 16), std::memory_order_acq_rel,
                                     std::memory_order_acquire))
        return static_cast<int64_t>(SpanEnd(w)) - 1;
    }
  }
  return -1;
}

void ThreadPool::RunChunks(uint64_t generation, int self) {
  // Of a later job when this one is already over: then no claim below succeeds.
  const uint64_t chunks = Chunks(work_.load(std::memory_order_acquire));
  for (;;) {
    int64_t k = ClaimOwn(generation, self);
    if (k < 0) k = Steal(generation, self);
    if (k < 0) return;
    // Chunk sizes differ by at most one (the first n % chunks are one longer).
    const int64_t c = static_cast<int64_t>(chunks);
    const int64_t base = n_ / c, rem = n_ % c;
    const int64_t begin = k * base + std::min(k, rem);
    fn_(arg_, begin, begin + base + (k < rem ? 1 : 0));
    // seq_cst, paired with caller_sleeping_: either this thread sees the caller asleep, or
    // the caller sees this chunk done before it sleeps.
    if (done_.fetch_add(1) + 1 == chunks && caller_sleeping_.load()) {
      std::lock_guard<std::mutex> lock(mu_);
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::WaitForDone(uint64_t chunks) {
  // A worker finishing its chunk is usually microseconds away: poll for it (the caller has
  // nothing else to do), and sleep only if it was descheduled.
  auto done = [&] { return done_.load(std::memory_order_acquire) == chunks; };
  if (Poll(done, [&] { return SpinLimit(); })) return;
  std::unique_lock<std::mutex> lock(mu_);
  caller_sleeping_.store(true);
  done_cv_.wait(lock, [&] { return done_.load() == chunks; });
  caller_sleeping_.store(false);
}

bool ThreadPool::WaitForJob(uint64_t seen) {
  auto ready = [&] {
    return Generation(work_.load(std::memory_order_acquire)) != seen ||
           stop_.load(std::memory_order_relaxed);
  };
  const bool found = Poll(ready, [&] { return SpinLimit(); });
  if (!found) {
    std::unique_lock<std::mutex> lock(mu_);
    sleeping_workers_.fetch_add(1);  // seq_cst, paired with the publishing store of work_
    wake_.wait(lock, [&] { return stop_.load() || Generation(work_.load()) != seen; });
    sleeping_workers_.fetch_sub(1);
  }
  return !stop_.load();
}

void ThreadPool::WorkerLoop(int self) {
  tls_inside_pool = true;
  // 0, not the current value: a job posted before this thread got scheduled must still be
  // seen as new (the constructor starts the workers with generation 0).
  uint64_t seen = 0;
  while (WaitForJob(seen)) {
    seen = Generation(work_.load(std::memory_order_acquire));
    RunChunks(seen, self);
  }
}

namespace {

// One number from a sysfs file, with open/read rather than std::ifstream: this runs on every
// session start with the default thread count, and the streams (their first use sets up a
// locale) took 200-300 us for the 4 files of a 2-core machine, against about 20 us this way.
bool ReadSysfsNumber(const char* dir, const char* name, long* out) {
  char path[128];
  std::snprintf(path, sizeof(path), "%s%s", dir, name);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[32];
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  char* end = nullptr;
  const long v = std::strtol(buf, &end, 10);
  if (end == buf) return false;
  *out = v;
  return true;
}

}  // namespace

int PhysicalCoreCount() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  const bool have_mask = sched_getaffinity(0, sizeof(mask), &mask) == 0;
  // Without simultaneous multithreading every logical CPU is a core of its own: one file
  // instead of two per CPU (sysfs opens cost 30-40 us each on a virtual machine).
  long smt_active = -1;
  if (have_mask && CPU_COUNT(&mask) > 0 &&
      ReadSysfsNumber("/sys/devices/system/cpu/smt/", "active", &smt_active) && smt_active == 0)
    return CPU_COUNT(&mask);
  std::set<std::pair<long, long>> cores;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (have_mask && !CPU_ISSET(cpu, &mask)) continue;
    char dir[80];
    std::snprintf(dir, sizeof(dir), "/sys/devices/system/cpu/cpu%d/topology/", cpu);
    long core = -1, package = -1;
    if (!ReadSysfsNumber(dir, "core_id", &core) ||
        !ReadSysfsNumber(dir, "physical_package_id", &package)) {
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
