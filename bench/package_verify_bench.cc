// Verification of a 52 MiB package from a file (streamed: header, Ed25519ph signature over the
// whole file, plus the model's BLAKE2b-256 when the model is not encrypted). The file is in the
// page cache after the first iteration, so this times the hashing, not the disk.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "package/pack.h"
#include "package/verify.h"
#include "tests/io/test_models.h"
#include "tests/package/package_fixtures.h"

namespace outpost::package {
namespace {

constexpr size_t kModelBytes = 52 << 20;

// range(0): 1 for a fleet-encrypted model.
void BM_VerifyPackage52MiB(benchmark::State& state) {
  const KeyPair k = testing::TestSigningPair();
  PackOptions o;
  o.version = "1.0.0";
  if (state.range(0) == 1) o.fleet_key = GenerateFleetKey();
  const std::string path = "/tmp/outpost_verify_bench_" + std::to_string(::getpid()) + ".opk";
  const std::vector<uint8_t> pkg = PackModel(testing::BigAddModelOpm(kModelBytes), k.secret, o).value();
  testing::WriteBytes(path, pkg);
  for (auto _ : state) {
    Expected<VerifiedPackage> v = VerifyPackageFile(path, k.public_key);
    if (!v) state.SkipWithError(v.message().c_str());
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(pkg.size()));
  std::remove(path.c_str());
}
BENCHMARK(BM_VerifyPackage52MiB)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace outpost::package

BENCHMARK_MAIN();
