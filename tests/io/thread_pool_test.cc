// The host thread pool: every index exactly once, each thread's own chunks first and in order
// and a stuck thread's taken by the others, nesting, reuse, calls inside and between runs,
// idle cost (also inside a run that never ends), clean shutdown.
#include "io/thread_pool.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace outpost::io {
namespace {

struct Coverage {
  std::vector<std::atomic<int>> hits;
  std::atomic<int> calls{0};
  std::atomic<int64_t> shortest{INT64_MAX};
  explicit Coverage(int64_t n) : hits(static_cast<size_t>(n)) {}
};

void Mark(void* arg, int64_t begin, int64_t end) {
  auto* c = static_cast<Coverage*>(arg);
  c->calls.fetch_add(1);
  int64_t prev = c->shortest.load();
  while (end - begin < prev && !c->shortest.compare_exchange_weak(prev, end - begin)) {
  }
  for (int64_t i = begin; i < end; ++i) c->hits[static_cast<size_t>(i)].fetch_add(1);
}

TEST(ThreadPoolTest, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 4, 7}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int64_t n : {0, 1, 2, 3, 5, 16, 17, 100, 1000, 4099}) {
      for (int64_t grain : {0, 1, 2, 3, 16, 64, 5000}) {
        Coverage c(n);
        pool.ParallelFor(n, grain, &Mark, &c);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(c.hits[static_cast<size_t>(i)].load(), 1)
              << "threads " << threads << " n " << n << " grain " << grain << " index " << i;
        EXPECT_LE(c.calls.load(), threads * ThreadPool::kChunksPerThread);
        if (n == 0) {
          EXPECT_EQ(c.calls.load(), 0);
        } else if (n >= grain) {  // each range is at least `grain` long
          EXPECT_GE(c.shortest.load(), std::max<int64_t>(grain, 1));
        }
      }
    }
  }
}

TEST(ThreadPoolTest, RunsChunksOnDistinctThreadsAtOnce) {
  ThreadPool pool(3);
  struct Seen {
    std::mutex mu;
    std::condition_variable cv;
    int arrived = 0;
    std::vector<std::thread::id> ids;
  } seen;
  pool.ParallelFor(
      3, 1,
      [](void* arg, int64_t, int64_t) {
        auto* s = static_cast<Seen*>(arg);
        std::unique_lock<std::mutex> lock(s->mu);
        s->ids.push_back(std::this_thread::get_id());
        ++s->arrived;
        s->cv.notify_all();
        // All three chunks must be running at the same time; a thread that took two chunks in a
        // row would wait here until the timeout.
        s->cv.wait_for(lock, std::chrono::seconds(10), [s] { return s->arrived == 3; });
      },
      &seen);
  ASSERT_EQ(seen.ids.size(), 3u);
  EXPECT_NE(seen.ids[0], seen.ids[1]);
  EXPECT_NE(seen.ids[1], seen.ids[2]);
  EXPECT_NE(seen.ids[0], seen.ids[2]);
}

struct Nested {
  ThreadPool* pool;
  std::vector<std::atomic<int>>* hits;
  int64_t inner;
};

// Each thread owns a contiguous range of chunks and takes it front to back: the caller's
// first chunk is chunk 0 and its own chunks come in order. A thread stuck in a chunk holds up
// only that chunk: the others take the rest of its range.
TEST(ThreadPoolTest, ThreadsTakeTheirOwnChunksInOrderAndTheRestOfAStuckThreads) {
  ThreadPool pool(2);
  constexpr int64_t kChunks = 2 * ThreadPool::kChunksPerThread;
  struct Log {
    std::thread::id caller = std::this_thread::get_id();
    std::mutex mu;
    std::condition_variable cv;
    std::vector<int64_t> caller_order;
    int done = 0;
    bool worker_stuck = false;
  } log;
  for (int round = 0; round < 20; ++round) {
    log.caller_order.clear();
    log.done = 0;
    log.worker_stuck = false;
    pool.ParallelFor(
        kChunks, 1,
        [](void* arg, int64_t begin, int64_t end) {
          auto* l = static_cast<Log*>(arg);
          std::unique_lock<std::mutex> lock(l->mu);
          if (std::this_thread::get_id() == l->caller) {
            l->caller_order.push_back(begin);
          } else if (!l->worker_stuck) {
            // The worker's first chunk waits for every other one: they can only finish if the
            // caller takes the rest of the worker's range.
            l->worker_stuck = true;
            l->cv.wait_for(lock, std::chrono::seconds(10), [l] { return l->done == kChunks - 1; });
            EXPECT_EQ(l->done, kChunks - 1) << "the rest of the stuck thread's range was not taken";
          }
          l->done += static_cast<int>(end - begin);
          l->cv.notify_all();
        },
        &log);
    ASSERT_EQ(log.done, kChunks);
    ASSERT_FALSE(log.caller_order.empty());
    EXPECT_EQ(log.caller_order[0], 0);
    // The caller's own range, [0, kChunks / 2), in order, before anything it took from the
    // worker's.
    for (size_t i = 1; i < log.caller_order.size() && log.caller_order[i] < kChunks / 2; ++i)
      EXPECT_EQ(log.caller_order[i], log.caller_order[i - 1] + 1);
  }
}

TEST(ThreadPoolTest, NestedCallsRunInlineAndCoverEverything) {
  ThreadPool pool(3);
  const int64_t outer = 12, inner = 50;
  std::vector<std::atomic<int>> hits(static_cast<size_t>(outer * inner));
  Nested ctx{&pool, &hits, inner};
  pool.ParallelFor(
      outer, 1,
      [](void* arg, int64_t begin, int64_t end) {
        auto* n = static_cast<Nested*>(arg);
        for (int64_t o = begin; o < end; ++o) {
          struct Row {
            std::vector<std::atomic<int>>* hits;
            int64_t base;
          } row{n->hits, o * n->inner};
          n->pool->ParallelFor(
              n->inner, 1,
              [](void* a, int64_t b, int64_t e) {
                auto* r = static_cast<Row*>(a);
                for (int64_t i = b; i < e; ++i)
                  (*r->hits)[static_cast<size_t>(r->base + i)].fetch_add(1);
              },
              &row);
        }
      },
      &ctx);
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(ThreadPoolTest, ManyRepeatedCallsAndCallsFromSeveralThreads) {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  auto add = [](void* arg, int64_t b, int64_t e) {
    static_cast<std::atomic<int64_t>*>(arg)->fetch_add(e - b);
  };
  for (int r = 0; r < 5000; ++r) pool.ParallelFor(97, 4, add, &total);
  EXPECT_EQ(total.load(), 5000 * 97);

  // Concurrent callers: one gets the pool, the others run inline; all finish, all counted.
  total = 0;
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int r = 0; r < 500; ++r) pool.ParallelFor(1000, 10, add, &total);
    });
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(total.load(), 3 * 500 * 1000);
}

TEST(ThreadPoolTest, ExecutorForwardsToThePool) {
  ThreadPool pool(2);
  const Executor& e = pool.executor();
  EXPECT_EQ(e.threads, 2);
  Coverage c(1000);
  e.ParallelFor(1000, 8, &Mark, &c);
  for (auto& h : c.hits) ASSERT_EQ(h.load(), 1);
  EXPECT_EQ(c.calls.load(), 2 * ThreadPool::kChunksPerThread);
}

TEST(ThreadPoolTest, CallsDuringARunAndAfterIt) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  auto add = [](void* arg, int64_t b, int64_t e) {
    static_cast<std::atomic<int64_t>*>(arg)->fetch_add(e - b);
  };
  for (int run = 0; run < 50; ++run) {
    pool.RunBegin();
    for (int op = 0; op < 20; ++op) {
      pool.ParallelFor(64, 1, add, &total);
      // A serial operator between two parallel ones; every few, one longer than any spin.
      if (op % 7 == 6) std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    pool.RunEnd();
  }
  EXPECT_EQ(total.load(), 50 * 20 * 64);
}

// CPU time of the whole process: the workers, and the test thread, which only sleeps.
double ProcessCpuMillis() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

TEST(ThreadPoolTest, IdleWorkersSleep) {
  ThreadPool pool(3);  // 2 workers
  std::atomic<int64_t> total{0};
  pool.ParallelFor(
      100, 1,
      [](void* arg, int64_t b, int64_t e) {
        static_cast<std::atomic<int64_t>*>(arg)->fetch_add(e - b);
      },
      &total);
  const double before = ProcessCpuMillis();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double used = ProcessCpuMillis() - before;
  // Spinning workers would burn about 600 ms here.
  EXPECT_LT(used, 20.0) << "idle pool used " << used << " ms of CPU in 300 ms";
  EXPECT_EQ(total.load(), 100);
}

TEST(ThreadPoolTest, IdleWorkersSleepAfterARun) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  auto add = [](void* arg, int64_t b, int64_t e) {
    static_cast<std::atomic<int64_t>*>(arg)->fetch_add(e - b);
  };
  pool.RunBegin();
  for (int op = 0; op < 100; ++op) pool.ParallelFor(100, 1, add, &total);
  pool.RunEnd();
  const double before = ProcessCpuMillis();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double used = ProcessCpuMillis() - before;
  EXPECT_LT(used, 15.0) << "idle pool used " << used << " ms of CPU in 200 ms after a run";
  EXPECT_EQ(total.load(), 100 * 100);
}

TEST(ThreadPoolTest, SpinInsideARunIsBounded) {
  // A run that never ends (a caller that forgot RunEnd, or one long serial operator) must not
  // keep the workers polling: they sleep after a bounded spin.
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  pool.RunBegin();
  pool.ParallelFor(
      100, 1,
      [](void* arg, int64_t b, int64_t e) {
        static_cast<std::atomic<int64_t>*>(arg)->fetch_add(e - b);
      },
      &total);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past any spin
  const double before = ProcessCpuMillis();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double used = ProcessCpuMillis() - before;
  pool.RunEnd();
  EXPECT_LT(used, 15.0) << "workers used " << used << " ms of CPU in 200 ms inside a run";
  EXPECT_EQ(total.load(), 100);
}

TEST(ThreadPoolTest, DestructionJoinsIdleAndFreshPools) {
  for (int i = 0; i < 50; ++i) {
    ThreadPool unused(4);  // destroyed before its workers may even have started
  }
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  pool.ParallelFor(
      10, 1,
      [](void* arg, int64_t b, int64_t e) {
        static_cast<std::atomic<int64_t>*>(arg)->fetch_add(e - b);
      },
      &total);
  EXPECT_EQ(total.load(), 10);
}

TEST(ThreadPoolTest, PhysicalCoreCountIsPlausible) {
  const int cores = PhysicalCoreCount();
  EXPECT_GE(cores, 1);
  const unsigned hw = std::thread::hardware_concurrency();
  if (hw > 0) {
    EXPECT_LE(cores, static_cast<int>(hw));
  }
}

}  // namespace
}  // namespace outpost::io
