#include "pipeline/runner/bounded_queue.h"
#include "pipeline/runner/spare_pool.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace outpost::pipeline {
namespace {

TEST(BoundedQueue, DropOldestKeepsTheNewest) {
  BoundedQueue<int> q(2, QueueFullPolicy::kDropOldest);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(q.Push(i));
  EXPECT_EQ(q.size(), 2u);
  const QueueStats s = q.stats();
  EXPECT_EQ(s.pushed, 5u);
  EXPECT_EQ(s.dropped, 3u);
  EXPECT_EQ(s.max_depth, 2u);
  EXPECT_DOUBLE_EQ(s.mean_depth, (1 + 2 + 2 + 2 + 2) / 5.0);
  int v = -1;
  ASSERT_TRUE(q.Pop(v));
  EXPECT_EQ(v, 3);
  ASSERT_TRUE(q.Pop(v));
  EXPECT_EQ(v, 4);
}

TEST(BoundedQueue, CloseDrainsThenEnds) {
  BoundedQueue<int> q(3, QueueFullPolicy::kBlock);
  q.Push(1);
  q.Push(2);
  q.Close();
  EXPECT_FALSE(q.Push(3));
  int v = 0;
  EXPECT_TRUE(q.Pop(v));
  EXPECT_EQ(v, 1);
  EXPECT_TRUE(q.Pop(v));
  EXPECT_EQ(v, 2);
  EXPECT_FALSE(q.Pop(v));
}

TEST(BoundedQueue, BlockLosesNothingBetweenTwoThreads) {
  BoundedQueue<int> q(2, QueueFullPolicy::kBlock);
  constexpr int kItems = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) q.Push(i);
    q.Close();
  });
  std::vector<int> got;
  int v = 0;
  while (q.Pop(v)) got.push_back(v);
  producer.join();
  ASSERT_EQ(got.size(), static_cast<size_t>(kItems));
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(got[i], i);
  EXPECT_EQ(q.stats().dropped, 0u);
  EXPECT_LE(q.stats().max_depth, 2u);
}

TEST(BoundedQueue, DropOldestBetweenTwoThreadsCountsEveryItem) {
  BoundedQueue<int> q(1, QueueFullPolicy::kDropOldest);
  constexpr int kItems = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) q.Push(i);
    q.Close();
  });
  uint64_t received = 0;
  int last = -1, v = 0;
  while (q.Pop(v)) {
    EXPECT_GT(v, last);  // order kept, nothing twice
    last = v;
    ++received;
  }
  producer.join();
  EXPECT_EQ(received + q.stats().dropped, static_cast<uint64_t>(kItems));
  EXPECT_EQ(last, kItems - 1);  // the newest item is never the one dropped
}

TEST(BoundedQueue, CloseWakesABlockedPusher) {
  BoundedQueue<int> q(1, QueueFullPolicy::kBlock);
  q.Push(0);
  bool result = true;
  std::thread pusher([&] { result = q.Push(1); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.Close();
  pusher.join();
  EXPECT_FALSE(result);
}

TEST(SparePool, HandsBackTheStorageOfAReturnedItem) {
  SparePool<std::vector<float>> pool;
  EXPECT_TRUE(pool.Take().empty());  // nothing returned yet: a new object
  std::vector<float> buffer(1000, 1.0f);
  const float* storage = buffer.data();
  pool.Give(std::move(buffer));
  std::vector<float> again = pool.Take();
  EXPECT_EQ(again.data(), storage);  // the same allocation, reused
  EXPECT_TRUE(pool.Take().empty());  // and taken only once
}

}  // namespace
}  // namespace outpost::pipeline
