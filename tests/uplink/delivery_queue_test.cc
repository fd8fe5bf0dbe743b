#include "uplink/delivery_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace outpost::uplink {
namespace {

TEST(DeliveryQueue, DeliversInOrderAndCountsBytes) {
  std::vector<std::string> seen;
  DeliveryQueue q(8, [&](const std::string& e) -> Expected<Unit> {
    seen.push_back(e);
    return Unit{};
  });
  EXPECT_TRUE(q.Push("a"));
  EXPECT_TRUE(q.Push("bb"));
  EXPECT_TRUE(q.Push("ccc"));
  q.Close(std::chrono::seconds(5));
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "bb", "ccc"}));
  const DeliveryCounters c = q.counters();
  EXPECT_EQ(c.delivered, 3u);
  EXPECT_EQ(c.bytes_delivered, 6u);
  EXPECT_EQ(c.failed, 0u);
  EXPECT_EQ(c.dropped, 0u);
}

TEST(DeliveryQueue, FullQueueDropsOldestWithoutBlocking) {
  std::atomic<bool> open{false};  // the receiver hangs until released
  std::vector<std::string> seen;
  DeliveryQueue q(2, [&](const std::string& e) -> Expected<Unit> {
    while (!open.load()) std::this_thread::yield();
    seen.push_back(e);
    return Unit{};
  });
  int refused = 0;
  for (int i = 0; i < 10; ++i) refused += q.Push(std::to_string(i)) ? 0 : 1;
  // One event may already be in the receiver's hands; the rest compete for two places.
  EXPECT_GE(refused, 7);
  open.store(true);
  q.Close(std::chrono::seconds(5));
  const DeliveryCounters c = q.counters();
  EXPECT_EQ(c.delivered + c.dropped, 10u);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), "9");  // the newest event survives
}

TEST(DeliveryQueue, FailuresAreCountedWithTheLastError) {
  DeliveryQueue q(4, [](const std::string& e) -> Expected<Unit> {
    if (e == "bad") return Error("receiver said no");
    return Unit{};
  });
  q.Push("ok");
  q.Push("bad");
  q.Close(std::chrono::seconds(5));
  const DeliveryCounters c = q.counters();
  EXPECT_EQ(c.delivered, 1u);
  EXPECT_EQ(c.failed, 1u);
  EXPECT_EQ(c.last_error, "receiver said no");
}

TEST(DeliveryQueue, CloseWithoutGraceCountsWhatIsLeft) {
  std::atomic<bool> open{false};
  std::atomic<int> started{0};
  DeliveryQueue q(8, [&](const std::string&) -> Expected<Unit> {
    started.fetch_add(1);
    while (!open.load()) std::this_thread::yield();
    return Unit{};
  });
  for (int i = 0; i < 5; ++i) q.Push("x");
  while (started.load() == 0) std::this_thread::yield();
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    open.store(true);
  });
  q.Close(std::chrono::milliseconds(0));
  release.join();
  const DeliveryCounters c = q.counters();
  EXPECT_EQ(c.delivered, 1u);  // the one in flight completes
  EXPECT_EQ(c.dropped, 4u);
}

}  // namespace
}  // namespace outpost::uplink
