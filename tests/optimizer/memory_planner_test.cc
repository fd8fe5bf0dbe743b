#include "compiler/plan/memory_planner.h"

#include <gtest/gtest.h>

#include "compiler/emit/graph_runner.h"
#include "tests/optimizer/graph_builder.h"

namespace outpost::testing {
namespace {

using opm::OpCode;

// Checks that no two buffers that are live at the same step overlap in the arena.
void ExpectNoConflicts(const plan::PlanResult& r) {
  for (size_t i = 0; i < r.buffers.size(); ++i)
    for (size_t j = i + 1; j < r.buffers.size(); ++j) {
      const auto &a = r.buffers[i], &b = r.buffers[j];
      const bool same_time = a.first_step <= b.last_step && b.first_step <= a.last_step;
      const bool same_space = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
      EXPECT_FALSE(same_time && same_space) << "buffers " << i << " and " << j << " collide";
    }
}

// Places every activation at its own offset: the plan that cannot be wrong.
void PlanWithoutSharing(ir::Graph& g) {
  uint64_t off = 0;
  for (auto& t : g.tensors)
    if (!t.constant) {
      t.arena_offset = static_cast<int64_t>(off);
      off += (t.bytes() + 15) / 16 * 16;
    }
  g.plan = ir::MemoryPlan{off, 0, 16};
}

TEST(MemoryPlanner, ChainReusesMemoryAndRunsInPlace) {
  GraphBuilder b;
  int x = b.Input("x", {1, 256});
  int t = b.Node(OpCode::ADD, {x, x}, {1, 256}, BinaryOpts());
  for (int i = 0; i < 6; ++i) t = b.Node(i % 2 ? OpCode::RELU : OpCode::SIGMOID, {t}, {1, 256});
  b.Output(t);
  const plan::PlanResult r = plan::PlanMemory(b.g);
  ExpectNoConflicts(r);
  // The input must survive (it is never overwritten), the chain runs in place over one buffer.
  EXPECT_EQ(r.buffers.size(), 2u);
  EXPECT_EQ(r.arena_bytes, 2u * 1024);
  EXPECT_EQ(r.lower_bound_bytes, 2u * 1024);
}

TEST(MemoryPlanner, ReshapeAliasesItsInput) {
  GraphBuilder b;
  const int x = b.Input("x", {1, 4, 4});
  const int s = b.Node(OpCode::SIGMOID, {x}, {1, 4, 4});
  opm::OpOptionsUnion none;
  const int r = b.Node(OpCode::RESHAPE, {s}, {1, 16});
  const int y = b.Node(OpCode::RELU, {r}, {1, 16});
  b.Output(y);
  plan::PlanMemory(b.g);
  EXPECT_EQ(b.g.tensors[s].arena_offset, b.g.tensors[r].arena_offset);
}

TEST(MemoryPlanner, GraphInputIsNeverOverwritten) {
  GraphBuilder b;
  const int x = b.Input("x", {8});
  const int y = b.Node(OpCode::RELU, {x}, {8});
  b.Output(y);
  plan::PlanMemory(b.g);
  EXPECT_NE(b.g.tensors[x].arena_offset, b.g.tensors[y].arena_offset);
}

// Random DAGs of element-wise ops with broadcasts: the planned graph must compute exactly what
// the same graph computes with every tensor in its own memory.
TEST(MemoryPlanner, RandomGraphsMatchUnsharedPlanBitForBit) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 60; ++trial) {
    GraphBuilder b;
    std::vector<int> pool = {b.Input("x", {2, 3, 8}), b.Input("y", {2, 3, 8})};
    const int nodes = 4 + static_cast<int>(rng() % 16);
    for (int k = 0; k < nodes; ++k) {
      const int a = pool[rng() % pool.size()];
      const int kind = static_cast<int>(rng() % 5);
      int out;
      if (kind < 2) {
        const int c = pool[rng() % pool.size()];
        out = b.Node(kind ? OpCode::ADD : OpCode::MUL, {a, c}, {2, 3, 8}, BinaryOpts());
      } else if (kind == 2) {
        const int c = b.RandomConst("c" + std::to_string(k), {3, 1}, trial * 100 + k);
        out = b.Node(OpCode::SUB, {a, c}, {2, 3, 8}, BinaryOpts());
      } else {
        out = b.Node(kind == 3 ? OpCode::TANH : OpCode::SIGMOID, {a}, {2, 3, 8});
      }
      pool.push_back(out);
    }
    // One or two outputs, possibly intermediate ones.
    b.Output(pool.back());
    if (rng() % 2) b.Output(pool[2 + rng() % (pool.size() - 2)]);
    const auto in0 = Bytes(RandomFloats(48, trial, -2, 2));
    const auto in1 = Bytes(RandomFloats(48, trial + 1000, -2, 2));

    ir::Graph unshared = b.g;
    PlanWithoutSharing(unshared);
    const auto want = emit::RunGraph(unshared, {in0, in1});
    const plan::PlanResult r = plan::PlanMemory(b.g);
    ExpectNoConflicts(r);
    EXPECT_GE(r.arena_bytes, r.lower_bound_bytes);
    EXPECT_EQ(emit::RunGraph(b.g, {in0, in1}), want) << "trial " << trial;
  }
}

}  // namespace
}  // namespace outpost::testing
