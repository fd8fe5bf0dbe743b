// Ranking a group's channels for pruning (internal to the pruner): a higher score is kept first.
#pragma once

#include <vector>

#include "common/expected.h"
#include "compiler/ir/graph.h"
#include "compiler/prune/channel_groups.h"
#include "compiler/prune/pruner.h"

namespace outpost::prune {

// One score vector per space of `spaces` (a channel count each).
//  - kL1 / kL2: each producer's weight-row norms divided by that producer's mean row norm (so
//    producers of different scale weigh alike in a residual group), summed over producers.
//  - kReconstruction: the greedy order of ThiNet. On calibration rows of every dense layer
//    reading the group, channel c's contribution z_c to the layer's output is computed; the
//    channel whose removal adds least to || sum of removed z ||^2 (each layer's error relative
//    to its output energy) goes first. Scores are the removal order.
Expected<std::vector<std::vector<double>>> RankChannels(const ir::Graph& g,
                                                        const ChannelAnalysis& a,
                                                        const std::vector<int>& spaces,
                                                        Criterion criterion,
                                                        const quant::Dataset* calibration,
                                                        const PruneProgressFn& progress);

}  // namespace outpost::prune
