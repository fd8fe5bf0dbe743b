// Scratch buffers shared by the tasks of one parallel call, claimed per task.
//
// A kernel that splits its work into one task per thread, each with a buffer of its own, is
// only as fast as its slowest thread: when another process takes part of a core, the other
// threads finish their share and wait. With more tasks than threads, the threads that run
// take the tasks of the one that does not. The buffers do not have to multiply with the
// tasks: an executor runs at most `threads` tasks at once (kernel.h), so a task claims a
// free buffer when it starts and returns it when it ends, and `threads` buffers suffice. A
// buffer also keeps what its last task left in it (its `holds` tag), so that the next task
// can reuse it.
#pragma once

#include <stdint.h>

#include <atomic>

namespace outpost {
namespace kernels {
namespace f32 {

class ScratchSlots {
 public:
  static constexpr int kMaxSlots = 32;

  // `n` in [1, kMaxSlots] buffers, all free, holding nothing (tag -1).
  explicit ScratchSlots(int n) : free_(n >= kMaxSlots ? ~uint32_t{0} : (uint32_t{1} << n) - 1) {
    for (int i = 0; i < kMaxSlots; ++i) holds_[i].store(-1, std::memory_order_relaxed);
  }

  // A free buffer's index, one holding `prefer` if there is such a buffer. With no buffer
  // free it spins until one is: callers run at most as many tasks at once as there are
  // buffers (more threads than buffers: no more tasks than buffers), so only an executor
  // that breaks its contract gets here.
  int Claim(int64_t prefer) {
    uint32_t m = free_.load(std::memory_order_acquire);
    for (;;) {
      if (m == 0) {
        m = free_.load(std::memory_order_acquire);
        continue;
      }
      int slot = __builtin_ctz(m);
      for (uint32_t rest = m; rest != 0; rest &= rest - 1) {
        const int i = __builtin_ctz(rest);
        if (holds_[i].load(std::memory_order_relaxed) == prefer) {
          slot = i;
          break;
        }
      }
      if (free_.compare_exchange_weak(m, m & ~(uint32_t{1} << slot), std::memory_order_acquire,
                                      std::memory_order_acquire))
        return slot;
    }
  }

  // Returns buffer `slot`, now holding what `tag` names (the next task to claim it sees the
  // tag and the buffer's contents).
  void Release(int slot, int64_t tag) {
    holds_[slot].store(tag, std::memory_order_relaxed);
    free_.fetch_or(uint32_t{1} << slot, std::memory_order_release);
  }

  // What buffer `slot` holds; only for the task that has claimed it.
  int64_t holds(int slot) const { return holds_[slot].load(std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> free_;
  // Atomic: a claim reads the tags of free buffers while their last holder may still be
  // writing one (its release's fetch_or orders the buffer's contents, not this hint).
  std::atomic<int64_t> holds_[kMaxSlots];
};

}  // namespace f32
}  // namespace kernels
}  // namespace outpost
