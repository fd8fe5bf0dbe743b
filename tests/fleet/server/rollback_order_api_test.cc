// Rollback orders in the poll answer: a device asked to go back to a version with a lower
// counter gets an order signed for it alone (its anti-rollback needs one); an upgrade gets none,
// and a server without a rollback key issues none.
#include "package/rollback_order.h"
#include "tests/fleet/server/server_fixture.h"

namespace outpost::fleet::testing {
namespace {

class RollbackOrderApiTest : public FleetServerTest {
 protected:
  void Adjust(FleetServerOptions& o) override {
    ASSERT_TRUE(package::WriteKeyFile(dir_ + "/rollback.key", order_keys_.secret).ok());
    o.rollback_key_file = dir_ + "/rollback.key";
    o.rollback_order_ttl_s = 3600;
  }
  nlohmann::json PollAs(const EnrolledDevice& d, const std::string& version) {
    Reply r = Send("POST", "/v1/device/poll", d.credential,
                   nlohmann::json{{"model", "big_add"}, {"version", version}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json["desired"];
  }
  package::KeyPair order_keys_ = outpost::testing::TestSigningPair(42);
};

TEST_P(RollbackOrderApiTest, ADowngradeCarriesAnOrderSignedForThatDeviceOnly) {
  ASSERT_EQ(Upload(Package("1.0.0")).status, 201);
  ASSERT_EQ(Upload(Package("1.1.0")).status, 201);
  const EnrolledDevice a = Enroll("a");
  const EnrolledDevice b = Enroll("b");

  // Upgrade: no order.
  ASSERT_EQ(Admin("PUT", "/v1/devices/" + a.id + "/desired", {{"model", "big_add"}, {"version", "1.1.0"}}).status, 200);
  EXPECT_FALSE(PollAs(a, "1.0.0").contains("rollback_order"));

  // Downgrade: an order for a, valid for the configured time, verifying with the order key.
  ASSERT_EQ(Admin("PUT", "/v1/devices/" + a.id + "/desired", {{"model", "big_add"}, {"version", "1.0.0"}}).status, 200);
  const nlohmann::json want = PollAs(a, "1.1.0");
  ASSERT_TRUE(want.contains("rollback_order")) << want.dump();
  const std::string text = want["rollback_order"].dump();
  Expected<package::RollbackOrder> order =
      package::VerifyRollbackOrder(text, order_keys_.public_key, {"big_add", a.id, now_ms_.load()});
  ASSERT_TRUE(order.ok()) << order.message();
  EXPECT_EQ(order->version, "1.0.0");
  EXPECT_EQ(order->counter, 1'000'000'000'000u);
  EXPECT_EQ(order->expires_ms - order->issued_ms, 3600 * 1000);

  // Device b cannot use a's order, nor can anyone after it expires, nor with the package key.
  EXPECT_FALSE(package::VerifyRollbackOrder(text, order_keys_.public_key, {"big_add", b.id, now_ms_.load()}).ok());
  EXPECT_FALSE(package::VerifyRollbackOrder(text, order_keys_.public_key,
                                            {"big_add", a.id, now_ms_.load() + 3600 * 1000})
                   .ok());
  EXPECT_FALSE(package::VerifyRollbackOrder(text, keys_.public_key, {"big_add", a.id, now_ms_.load()}).ok());

  // A device already on the desired version needs nothing.
  EXPECT_FALSE(PollAs(a, "1.0.0").contains("rollback_order"));
}

FLEET_SERVER_SUITE(RollbackOrderApiTest);

using NoRollbackKeyTest = FleetServerTest;

TEST_P(NoRollbackKeyTest, WithoutAKeyADowngradeIsOfferedWithoutAnOrder) {
  ASSERT_EQ(Upload(Package("1.0.0")).status, 201);
  ASSERT_EQ(Upload(Package("1.1.0")).status, 201);
  const EnrolledDevice a = Enroll("a");
  ASSERT_EQ(Admin("PUT", "/v1/devices/" + a.id + "/desired", {{"model", "big_add"}, {"version", "1.0.0"}}).status, 200);
  Reply r = Send("POST", "/v1/device/poll", a.credential, R"({"model":"big_add","version":"1.1.0"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["desired"]["version"], "1.0.0");
  EXPECT_FALSE(r.json["desired"].contains("rollback_order")) << r.body;
}

INSTANTIATE_TEST_SUITE_P(Databases, NoRollbackKeyTest, ::testing::Values("sqlite"), BackendName);

}  // namespace
}  // namespace outpost::fleet::testing
