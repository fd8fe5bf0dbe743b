// ScratchSlots (runtime/kernels/f32/scratch_slots.h): the per-task buffers of the parallel
// float kernels. A buffer is never held by two tasks at once, and a claim prefers the buffer
// that holds what the task needs.
#include "runtime/kernels/f32/scratch_slots.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace outpost::testing {
namespace {

using kernels::f32::ScratchSlots;

TEST(ScratchSlots, ClaimsDistinctBuffersAndPrefersTheOneHoldingTheTag) {
  ScratchSlots slots(3);
  const int a = slots.Claim(-1), b = slots.Claim(-1), c = slots.Claim(-1);
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_NE(a, c);
  EXPECT_EQ(slots.holds(a), -1);
  slots.Release(a, 10);
  slots.Release(c, 30);
  EXPECT_EQ(slots.Claim(30), c);  // not the lowest free one
  EXPECT_EQ(slots.holds(c), 30);
  EXPECT_EQ(slots.Claim(99), a);  // no buffer holds 99: the lowest free one
  EXPECT_EQ(slots.holds(a), 10);
}

// As the kernels use them: at most one task per buffer at once (here one thread per buffer),
// each claiming and returning buffers as fast as it can. No buffer is ever held twice, and no
// claim has to wait.
TEST(ScratchSlots, ConcurrentClaimsNeverShareABuffer) {
  constexpr int kBuffers = 3, kRounds = 20000;
  ScratchSlots slots(kBuffers);
  std::atomic<int> users[kBuffers] = {};
  std::atomic<int> overlaps{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kBuffers; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const int s = slots.Claim(t);
        if (users[s].fetch_add(1) != 0) overlaps.fetch_add(1);
        users[s].fetch_sub(1);
        slots.Release(s, t);
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(overlaps.load(), 0);
}

}  // namespace
}  // namespace outpost::testing
