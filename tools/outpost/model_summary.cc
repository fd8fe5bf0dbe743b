#include "tools/outpost/model_summary.h"

#include "advisor/cost/op_features.h"
#include "runtime/all_ops_resolver.h"
#include "runtime/interpreter.h"

namespace outpost::cli {

advisor::PlanModel SummarizeModel(const io::LoadedModel& m, const std::string& name) {
  advisor::PlanModel pm;
  pm.name = name;
  uint64_t heaviest = 0;
  for (const advisor::OpFeatures& op : advisor::ExtractOpFeatures(m.model())) {
    pm.macs += op.macs;
    pm.weight_bytes += op.weight_bytes;
    // The model's precision is that of the op doing most of its work.
    if (op.macs > heaviest) heaviest = op.macs, pm.precision = op.precision;
  }
  AllOpsResolver resolver;
  ErrorReporter errors;
  ArenaRequirement need;
  if (RegisterAllKernels(resolver) != Status::kOk ||
      Interpreter::Measure(m.model(), resolver, &need, &errors) != Status::kOk)
    throw Error(std::string("cannot measure the model's arena: ") + errors.message());
  pm.arena_bytes = need.total_bytes;
  return pm;
}

}  // namespace outpost::cli
