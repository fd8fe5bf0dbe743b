#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "pipeline/postprocess/nms.h"

namespace outpost::pipeline {
namespace {

std::vector<int> Keep(const std::vector<Candidate>& c, NmsOptions o, int classes = 4) {
  Nms nms;
  nms.Reserve(static_cast<int>(c.size()), classes);
  Expected<std::span<const int>> k = nms.Run(c, o);
  EXPECT_TRUE(k.ok()) << k.message();
  return k.ok() ? std::vector<int>(k->begin(), k->end()) : std::vector<int>{};
}

TEST(Nms, SuppressesOverlapOfSameClassOnly) {
  const std::vector<Candidate> c = {
      {{0, 0, 10, 10}, 0.9f, 0},
      {{1, 1, 11, 11}, 0.8f, 0},  // IoU 81/119 = 0.68 with box 0
      {{1, 1, 11, 11}, 0.7f, 1},  // same box, other class
      {{20, 20, 30, 30}, 0.6f, 0},
  };
  EXPECT_EQ(Keep(c, {0.5}), (std::vector<int>{0, 2, 3}));
  NmsOptions agnostic{0.5};
  agnostic.class_agnostic = true;
  EXPECT_EQ(Keep(c, agnostic), (std::vector<int>{0, 3}));
  EXPECT_EQ(Keep(c, {0.7}), (std::vector<int>{0, 1, 2, 3}));
}

TEST(Nms, IoUExactlyAtThresholdIsKept) {
  // IoU 50 / 150: the threshold is that very float, so only a strictly greater IoU suppresses.
  const std::vector<Candidate> c = {{{0, 0, 10, 10}, 0.9f, 0}, {{5, 0, 15, 10}, 0.8f, 0}};
  const double iou = IoU(c[0].box, c[1].box);
  EXPECT_EQ(Keep(c, {iou}), (std::vector<int>{0, 1}));  // not strictly greater
  EXPECT_EQ(Keep(c, {std::nextafter(iou, 0.0)}), (std::vector<int>{0}));
}

TEST(Nms, TiesGoToTheLowerIndex) {
  const std::vector<Candidate> c = {{{1, 1, 11, 11}, 0.5f, 0},
                                    {{0, 0, 10, 10}, 0.5f, 0},
                                    {{0, 0, 10, 10}, 0.5f, 0}};
  EXPECT_EQ(Keep(c, {0.5}), (std::vector<int>{0}));
}

TEST(Nms, NaNScoresAreSkippedAndDegenerateBoxesNeverSuppress) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<Candidate> c = {{{0, 0, 10, 10}, nan, 0},
                                    {{5, 5, 5, 5}, 0.9f, 0},  // empty: IoU 0 or NaN
                                    {{5, 5, 5, 5}, 0.8f, 0},
                                    {{0, 0, 10, 10}, 0.7f, 0},
                                    {{10, 10, 0, 0}, 0.6f, 0}};  // inverted
  const std::vector<int> keep = Keep(c, {0.5});
  EXPECT_EQ(keep, (std::vector<int>{1, 2, 3, 4}));
}

TEST(Nms, MaxCandidatesKeepsTheBestBeforeSorting) {
  std::vector<Candidate> c;
  for (int i = 0; i < 50; ++i)
    c.push_back({{i * 20.0f, 0, i * 20.0f + 10, 10}, static_cast<float>(i % 7), 0});
  NmsOptions o{0.5};
  o.max_candidates = 10;
  const std::vector<int> keep = Keep(c, o);
  ASSERT_EQ(keep.size(), 10u);
  // Scores 6 (7 boxes: 6, 13, ..., 48) then 5 (the first three of 5, 12, 19, ...).
  EXPECT_EQ(keep, (std::vector<int>{6, 13, 20, 27, 34, 41, 48, 5, 12, 19}));
}

TEST(Nms, RejectsTooManyCandidatesAndBadClasses) {
  Nms nms;
  nms.Reserve(1, 2);
  const std::vector<Candidate> two(2);
  EXPECT_FALSE(nms.Run(two, {}).ok());
  const std::vector<Candidate> bad = {{{0, 0, 1, 1}, 1.0f, 2}};
  EXPECT_FALSE(nms.Run(bad, {}).ok());
  NmsOptions agnostic;
  agnostic.class_agnostic = true;
  EXPECT_TRUE(nms.Run(bad, agnostic).ok());
}

}  // namespace
}  // namespace outpost::pipeline
