// Channel dependency analysis for structured pruning (docs/compression.md).
//
// Removing output channel c of a convolution is only correct if every place that sees channel c
// drops it too: the next layer's input weights, a depthwise conv and the per-channel constants
// on the way, and every other layer writing the same channels through a residual ADD. The
// analysis gives each tensor's channel axis (axis 1) a description as a run of "channel spaces":
//
//   - a dense CONV_2D or FULLY_CONNECTED with constant weights starts a new space (its weight
//     rows are the space's channels: it is a producer of the space);
//   - channel-wise ops (activations, pooling, spatial padding, depthwise conv, per-channel
//     constants) pass their input's spaces through unchanged;
//   - an element-wise op on two activations merges their spaces (a residual ADD: both branches
//     must keep the same channels), so one space can have several producers;
//   - CONCAT along the channels lays spaces side by side (each keeps its own offset);
//   - a flatten [N, C, H, W] -> [N, C*H*W] keeps the spaces, each channel now H*W columns wide;
//   - anything else, the graph's inputs and its outputs freeze the spaces they touch: a frozen
//     space keeps all its channels (the model's interface never changes).
//
// A space that is not frozen is a prunable group: choose which of its channels to keep and
// ApplyChannelPruning() slices every weight, bias, constant and tensor shape consistently.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"

namespace outpost::prune {

// `channels` consecutive channels of space `space` on a tensor's axis 1, each channel `inner`
// values wide (1, or H*W after a flatten).
struct Segment {
  int space = -1;
  int64_t channels = 0;
  int64_t inner = 1;
};

struct ChannelSpace {
  int64_t channels = 0;
  bool frozen = false;
  std::string frozen_why;      // the first reason, e.g. "feeds graph output 'logits'"
  std::vector<int> producers;  // dense CONV_2D / FULLY_CONNECTED nodes writing these channels
  std::vector<int> consumers;  // dense CONV_2D / FULLY_CONNECTED nodes reading them
};

struct ChannelAnalysis {
  // By space id; only ids that are their own representative (merged spaces point to one) are
  // listed in `groups` and `frozen`.
  std::vector<ChannelSpace> spaces;
  // By tensor index: the runs making up axis 1 (empty: constants, rank < 2, unanalyzed).
  std::vector<std::vector<Segment>> segments;
  std::vector<int> groups;  // prunable spaces, in the order of their first producer
  std::vector<int> frozen;  // frozen spaces that some dense layer produces (for reports)
  // Depthwise CONV_2D nodes (groups == channels) whose weights follow their input's channels.
  std::vector<bool> depthwise;  // by node index
};

// The pruned keep-list of each space: keep[space] holds the kept channel indices in increasing
// order; an empty list means "all channels" (unpruned).
using KeepMap = std::vector<std::vector<int64_t>>;

// Analyzes a float graph. Errors: a quantized graph (prune before quantizing), an inconsistent
// graph (a shape that does not match its spaces).
Expected<ChannelAnalysis> AnalyzeChannels(const ir::Graph& float_graph);

// Positions along axis 1 of tensor `t` that survive `keep` (all positions when the tensor has
// no segments), in increasing order.
std::vector<int64_t> KeptPositions(const ChannelAnalysis& a, const KeepMap& keep, int t,
                                   int64_t axis_size);

// Returns the graph with every group's dropped channels removed: weights, biases, depthwise
// weights and groups, per-channel constants and activation shapes. Node and existing tensor
// indices are unchanged (shared constants get a private copy appended), so the result can be
// compared with the original node by node. Errors: a keep list out of range or empty.
Expected<ir::Graph> ApplyChannelPruning(const ir::Graph& float_graph, const ChannelAnalysis& a,
                                        const KeepMap& keep);

// The name a report gives a space: its first producer's node name.
std::string SpaceName(const ir::Graph& g, const ChannelAnalysis& a, int space);

}  // namespace outpost::prune
