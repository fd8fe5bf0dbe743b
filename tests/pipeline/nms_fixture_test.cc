// NMS against torchvision: nms_fixtures.bin holds random box sets (clusters, duplicates,
// degenerate and inverted boxes, tied scores, several IoU thresholds and class counts) with
// the keep indices torchvision.ops.nms / batched_nms returned. See make_nms_fixtures.py.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "pipeline/postprocess/nms.h"

namespace outpost::pipeline {
namespace {

struct FixtureCase {
  std::vector<Candidate> candidates;
  int classes = 0;  // 0: class-agnostic
  double iou = 0;
  std::vector<int> keep;
};

// Reads little-endian values in order; `ok` turns false on a short file.
class Reader {
 public:
  explicit Reader(std::vector<char> bytes) : bytes_(std::move(bytes)) {}
  template <typename T>
  T Get() {
    T v{};
    if (pos_ + sizeof(T) > bytes_.size()) {
      ok = false;
      return v;
    }
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  bool done() const { return pos_ == bytes_.size(); }
  bool ok = true;

 private:
  std::vector<char> bytes_;
  size_t pos_ = 0;
};

std::vector<FixtureCase> LoadFixtures() {
  std::ifstream f(OUTPOST_NMS_FIXTURES, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Reader r(std::move(bytes));
  uint64_t magic = 0;
  std::memcpy(&magic, "OPNMS1\0\0", 8);
  EXPECT_EQ(r.Get<uint64_t>(), magic) << OUTPOST_NMS_FIXTURES << " is not an NMS fixture file";
  std::vector<FixtureCase> cases(r.Get<uint32_t>());
  for (FixtureCase& c : cases) {
    const uint32_t n = r.Get<uint32_t>();
    c.classes = static_cast<int>(r.Get<uint32_t>());
    c.iou = r.Get<double>();
    c.candidates.resize(n);
    for (Candidate& k : c.candidates)
      k.box = {r.Get<float>(), r.Get<float>(), r.Get<float>(), r.Get<float>()};
    for (Candidate& k : c.candidates) k.score = r.Get<float>();
    if (c.classes > 0)
      for (Candidate& k : c.candidates) k.class_id = r.Get<int32_t>();
    c.keep.resize(r.Get<uint32_t>());
    for (int& k : c.keep) k = r.Get<int32_t>();
  }
  EXPECT_TRUE(r.ok && r.done()) << "truncated or oversized " << OUTPOST_NMS_FIXTURES;
  return cases;
}

TEST(NmsFixture, MatchesTorchvisionKeepLists) {
  const std::vector<FixtureCase> cases = LoadFixtures();
  ASSERT_GE(cases.size(), 10u);
  size_t boxes = 0, batched = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const FixtureCase& c = cases[i];
    boxes += c.candidates.size();
    batched += c.classes > 0;
    Nms nms;
    nms.Reserve(static_cast<int>(c.candidates.size()), std::max(c.classes, 1));
    NmsOptions o;
    o.iou_threshold = c.iou;
    o.class_agnostic = c.classes == 0;
    Expected<std::span<const int>> keep = nms.Run(c.candidates, o);
    ASSERT_TRUE(keep.ok()) << keep.message();
    EXPECT_EQ(std::vector<int>(keep->begin(), keep->end()), c.keep)
        << "case " << i << ": " << c.candidates.size() << " boxes, " << c.classes
        << " classes, iou " << c.iou;
  }
  EXPECT_GT(boxes, 2000u);
  EXPECT_GE(batched, 2u);
}

// max_detections cuts the torchvision list after its first k entries: the early exit must not
// change which boxes come first.
TEST(NmsFixture, MaxDetectionsIsAPrefix) {
  for (const FixtureCase& c : LoadFixtures()) {
    if (c.keep.size() < 5) continue;
    Nms nms;
    nms.Reserve(static_cast<int>(c.candidates.size()), std::max(c.classes, 1));
    NmsOptions o;
    o.iou_threshold = c.iou;
    o.class_agnostic = c.classes == 0;
    o.max_detections = static_cast<int>(c.keep.size() / 2);
    Expected<std::span<const int>> keep = nms.Run(c.candidates, o);
    ASSERT_TRUE(keep.ok());
    EXPECT_EQ(std::vector<int>(keep->begin(), keep->end()),
              std::vector<int>(c.keep.begin(), c.keep.begin() + o.max_detections));
  }
}

}  // namespace
}  // namespace outpost::pipeline
