// Uploads: a package signed by the fleet key enters the registry from its manifest; a tampered
// package, one signed by another key, a duplicate version or an unknown parent is refused and
// leaves the registry and the artifact directory unchanged.
#include "package/verify.h"
#include "tests/fleet/server/server_fixture.h"
#include "tests/package/package_fixtures.h"

namespace outpost::fleet::testing {
namespace {

using ModelUploadTest = FleetServerTest;

TEST_P(ModelUploadTest, AValidPackageEntersTheRegistryFromItsManifest) {
  const std::vector<uint8_t> pkg = Package("1.0.0");
  Reply r = Upload(pkg);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json["name"], "big_add");
  EXPECT_EQ(r.json["version"], "1.0.0");
  EXPECT_EQ(r.json["counter"], 1000000000000);
  EXPECT_EQ(r.json["size"], pkg.size());
  EXPECT_EQ(r.json["digest"].get<std::string>().size(), 64u);
  EXPECT_DOUBLE_EQ(r.json["figures"]["accuracy"].get<double>(), 0.91);
  EXPECT_GT(r.json["figures"]["arena_bytes"].get<int64_t>(), 0);

  Reply child = Upload(Package("1.1.0"), "?parent=1.0.0");
  ASSERT_EQ(child.status, 201) << child.body;
  EXPECT_EQ(child.json["parent"], "1.0.0");

  Reply list = Admin("GET", "/v1/models");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json["models"].size(), 2u);
  EXPECT_EQ(list.json["models"][0]["version"], "1.1.0");  // newest first
  Reply one = Admin("GET", "/v1/models/big_add/versions/1.0.0");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json["digest"], r.json["digest"]);
  EXPECT_EQ(Admin("GET", "/v1/models/big_add/versions/9.9.9").status, 404);
  EXPECT_EQ(Admin("GET", "/v1/models/big_add/versions/latest").status, 400);
}

TEST_P(ModelUploadTest, TamperedForeignDuplicateAndOrphanPackagesAreRefused) {
  ASSERT_EQ(Upload(Package("1.0.0")).status, 201);
  const std::string before = StateSnapshot();

  std::vector<uint8_t> tampered = Package("1.1.0");
  tampered[tampered.size() / 2] ^= 0x01;
  Reply t = Upload(tampered);
  EXPECT_EQ(t.status, 422) << t.body;
  // The verifier's reason, as it gives it.
  EXPECT_EQ(t.json["error"].get<std::string>().rfind("package: ", 0), 0u) << t.body;

  const package::KeyPair other = outpost::testing::TestSigningPair(99);
  Reply foreign = Upload(Package("1.2.0", &other.secret));
  EXPECT_EQ(foreign.status, 422) << foreign.body;
  EXPECT_EQ(foreign.json["error"], package::VerifyPackageBytes(Package("1.2.0", &other.secret), keys_.public_key).message());

  Reply dup = Upload(Package("1.0.0", nullptr, 8192));  // same version, other bytes
  EXPECT_EQ(dup.status, 409) << dup.body;
  Reply orphan = Upload(Package("1.3.0"), "?parent=0.9.0");
  EXPECT_EQ(orphan.status, 422) << orphan.body;
  EXPECT_EQ(Upload({}).status, 400);
  EXPECT_EQ(Upload(Package("1.4.0"), "?parent=not-a-version").status, 400);
  EXPECT_EQ(Upload(Package("1.4.0"), "?color=red").status, 400);

  EXPECT_EQ(StateSnapshot(), before);
}

TEST_P(ModelUploadTest, APackageOverTheLimitIs413) {
  Reply r = Upload(Package("2.0.0", nullptr, 5 << 20));  // the fixture's limit is 4 MiB
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_TRUE(r.json.contains("error"));
  EXPECT_EQ(Admin("GET", "/v1/models").json["models"].size(), 0u);
}

FLEET_SERVER_SUITE(ModelUploadTest);

}  // namespace
}  // namespace outpost::fleet::testing
