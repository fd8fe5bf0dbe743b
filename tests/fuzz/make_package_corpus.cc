// Writes the package fuzzer's seeds: make_package_corpus OUT_DIR. Small packages of the tiny
// classifier signed with the fuzzer's key: plain, encrypted with its fleet key, sealed to its
// device key. Fixed creation time, stream header and content key: the plain and fleet seeds are
// the same on every run; the sealed one differs (crypto_box_seal draws an ephemeral key).
#include <cstdio>
#include <fstream>

#include "package/pack.h"
#include "tests/fuzz/package_fuzz_keys.h"
#include "tests/io/test_models.h"

int main(int argc, char** argv) {
  using namespace outpost;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_package_corpus OUT_DIR\n");
    return 2;
  }
  testing::TinyModelOptions small;
  small.self_test = false;
  const std::vector<uint8_t> model = testing::TinyClassifierOpm(small);
  const package::KeyPair signer = fuzz::FuzzSigningPair();
  package::PackOptions o;
  o.version = "1.2.3";
  o.targets = {"x86-64"};
  o.created = "2026-01-01T00:00:00Z";
  o.stream_header = package::StreamHeader{};
  o.content_key = package::ContentKey{};
  o.content_key->fill(0x11);
  auto write = [&](const char* name, const package::PackOptions& opts) {
    const std::vector<uint8_t> bytes = package::PackModel(model, signer.secret, opts).value();
    std::ofstream out(std::string(argv[1]) + "/" + name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
  };
  bool ok = write("plain.opk", o);
  package::PackOptions fleet = o;
  fleet.fleet_key = fuzz::FuzzFleetKey();
  ok = write("fleet.opk", fleet) && ok;
  package::PackOptions sealed = o;
  sealed.devices = {fuzz::FuzzDevicePair().public_key};
  ok = write("sealed.opk", sealed) && ok;
  return ok ? 0 : 1;
}
