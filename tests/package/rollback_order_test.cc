// Signed rollback orders: a round trip, and one refusal each for a tampered order, another
// key, an expired order, another device and another model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "package/rollback_order.h"
#include "tests/package/package_fixtures.h"

namespace outpost::package {
namespace {

RollbackOrder SampleOrder(const std::string& device = "d-0123456789abcdef") {
  RollbackOrder o;
  o.model = "detector";
  o.version = "1.0.0";
  o.counter = 1'000'000'000'000;
  o.device = device;
  o.issued_ms = 1'800'000'000'000;
  o.expires_ms = 1'800'000'600'000;
  return o;
}

const RollbackOrderCheck kOrderCheck{"detector", "d-0123456789abcdef", 1'800'000'100'000};

TEST(RollbackOrder, SignedOrderVerifiesForItsDeviceAndModel) {
  const KeyPair keys = outpost::testing::TestSigningPair();
  Expected<std::string> text = SignRollbackOrder(SampleOrder(), keys.secret);
  ASSERT_TRUE(text.ok()) << text.message();
  Expected<RollbackOrder> order = VerifyRollbackOrder(*text, keys.public_key, kOrderCheck);
  ASSERT_TRUE(order.ok()) << order.message();
  EXPECT_EQ(order->version, "1.0.0");
  EXPECT_EQ(order->counter, 1'000'000'000'000u);
  // The signed content is canonical: sorted keys, no whitespace.
  EXPECT_EQ(CanonicalRollbackOrder(SampleOrder()),
            R"({"counter":1000000000000,"device":"d-0123456789abcdef","expires_ms":1800000600000,)"
            R"("issued_ms":1800000000000,"model":"detector","version":"1.0.0"})");
}

TEST(RollbackOrder, FleetWideOrderVerifiesOnAnyDevice) {
  const KeyPair keys = outpost::testing::TestSigningPair();
  const std::string text = SignRollbackOrder(SampleOrder("*"), keys.secret).value();
  RollbackOrderCheck other = kOrderCheck;
  other.device_id = "d-fedcba9876543210";
  EXPECT_TRUE(VerifyRollbackOrder(text, keys.public_key, other).ok());
}

TEST(RollbackOrder, TamperedOrderIsRefused) {
  const KeyPair keys = outpost::testing::TestSigningPair();
  nlohmann::json j = nlohmann::json::parse(SignRollbackOrder(SampleOrder(), keys.secret).value());
  j["order"]["version"] = "0.9.0";
  Expected<RollbackOrder> r = VerifyRollbackOrder(j.dump(), keys.public_key, kOrderCheck);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message().rfind("rollback order: signature does not verify with the fleet key", 0), 0u) << r.message();
}

TEST(RollbackOrder, OrderSignedByAnotherKeyIsRefused) {
  const KeyPair fleet = outpost::testing::TestSigningPair();
  const KeyPair other = outpost::testing::TestSigningPair(9);
  const std::string text = SignRollbackOrder(SampleOrder(), other.secret).value();
  Expected<RollbackOrder> r = VerifyRollbackOrder(text, fleet.public_key, kOrderCheck);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("signed by key " + other.public_key.id() + ", not by the fleet key"), std::string::npos)
      << r.message();
  // Claiming the fleet key's id does not help: the signature itself is checked.
  nlohmann::json j = nlohmann::json::parse(text);
  j["signer"] = fleet.public_key.id();
  r = VerifyRollbackOrder(j.dump(), fleet.public_key, kOrderCheck);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("signature does not verify"), std::string::npos) << r.message();
}

TEST(RollbackOrder, ExpiredOrderIsRefused) {
  const KeyPair keys = outpost::testing::TestSigningPair();
  const std::string text = SignRollbackOrder(SampleOrder(), keys.secret).value();
  RollbackOrderCheck late = kOrderCheck;
  late.now_ms = 1'800'000'600'000;
  Expected<RollbackOrder> r = VerifyRollbackOrder(text, keys.public_key, late);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "rollback order: expired at 1800000600000 ms (now 1800000600000 ms)");
}

TEST(RollbackOrder, OrderForAnotherDeviceOrModelIsRefused) {
  const KeyPair keys = outpost::testing::TestSigningPair();
  const std::string text = SignRollbackOrder(SampleOrder(), keys.secret).value();
  RollbackOrderCheck device = kOrderCheck;
  device.device_id = "d-fedcba9876543210";
  EXPECT_EQ(VerifyRollbackOrder(text, keys.public_key, device).message(),
            "rollback order: for device d-0123456789abcdef, not d-fedcba9876543210");
  RollbackOrderCheck model = kOrderCheck;
  model.model = "classifier";
  EXPECT_EQ(VerifyRollbackOrder(text, keys.public_key, model).message(),
            "rollback order: for model detector, not classifier");
}

TEST(RollbackOrder, MalformedOrdersAreRefused) {
  const KeyPair keys = outpost::testing::TestSigningPair();
  EXPECT_EQ(VerifyRollbackOrder("not json", keys.public_key, kOrderCheck).message(), "rollback order: not a JSON object");
  nlohmann::json j = nlohmann::json::parse(SignRollbackOrder(SampleOrder(), keys.secret).value());
  j["order"].erase("counter");
  EXPECT_FALSE(VerifyRollbackOrder(j.dump(), keys.public_key, kOrderCheck).ok());
  RollbackOrder bad = SampleOrder();
  bad.expires_ms = bad.issued_ms;
  EXPECT_EQ(SignRollbackOrder(bad, keys.secret).message(), "rollback order: 'expires_ms' must be after 'issued_ms'");
}

}  // namespace
}  // namespace outpost::package
