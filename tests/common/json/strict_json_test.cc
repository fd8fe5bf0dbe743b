// The strict JSON reader: unknown fields, one type per field, ranges, whole numbers, the
// nesting limit, and messages that name the object and the field and stay short and UTF-8.
#include "common/json/strict_json.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

// The message of the Error `f` throws ("" when it throws none).
template <typename F>
std::string Refusal(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return "";
}

TEST(StrictJson, ParsesObjectsAndRefusesEverythingElse) {
  EXPECT_EQ(ParseJsonObject("", "body"), nlohmann::json::object());
  EXPECT_EQ(ParseJsonObject(R"({"a":1})", "body")["a"], 1);
  EXPECT_EQ(Refusal([] { ParseJsonObject("[1,2]", "body"); }), "body: expected a JSON object, got [1,2]");
  EXPECT_EQ(Refusal([] { ParseJsonObject(R"({"a":)", "body"); }), "body: not valid JSON (syntax error at byte 6)");
  EXPECT_EQ(Refusal([] { ParseJsonObject(R"({"a":1e999})", "body"); }),
            "body: not valid JSON (a number too large for a double)");
  EXPECT_EQ(Refusal([] { ParseJsonObject("   ", "body"); }).rfind("body: not valid JSON", 0), 0u);
}

TEST(StrictJson, RefusesNestingDeeperThanTheLimit) {
  const auto nested = [](int depth) {
    return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  EXPECT_NO_THROW(ParseJsonObject(nested(kMaxJsonDepth), "body"));
  EXPECT_NE(Refusal([&] { ParseJsonObject(nested(kMaxJsonDepth + 1), "body"); }).find("nested deeper than 64"),
            std::string::npos);
  // Brackets inside strings are text, not nesting.
  EXPECT_NO_THROW(ParseJsonObject("{\"a\":\"" + std::string(1000, '[') + "\\\"\"}", "body"));
  EXPECT_NE(Refusal([] { ParseJsonText(std::string(100000, '['), "plan"); }).find("nested deeper"), std::string::npos);
}

TEST(StrictJson, RefusesUnknownFieldsNamingTheAllowedOnes) {
  const nlohmann::json j = {{"name", "x"}, {"colour", "blue"}};
  EXPECT_EQ(Refusal([&] { JsonFields(j, "rule", {"name", "size"}); }),
            "rule: unknown field 'colour' (allowed: name, size)");
  EXPECT_EQ(Refusal([] { JsonFields(nlohmann::json(7), "rule", {"name"}); }), "rule: expected a JSON object, got 7");
  EXPECT_NO_THROW(JsonFields(j, "rule", {"name", "colour"}));
}

TEST(StrictJson, EachFieldHasOneType) {
  const nlohmann::json j = {{"s", 5}, {"i", "5"}, {"n", true}, {"l", {"a", 1}}, {"o", {1}}, {"a", "x"}};
  const JsonFields f(j, "obj", {"s", "i", "n", "l", "o", "a", "missing"});
  EXPECT_EQ(Refusal([&] { f.String("s"); }), "obj: 's' must be a string, got 5");
  EXPECT_EQ(Refusal([&] { f.Int("i"); }), "obj: 'i' must be a whole number, got \"5\"");
  EXPECT_EQ(Refusal([&] { f.Number("n"); }), "obj: 'n' must be a number, got true");
  EXPECT_EQ(Refusal([&] { f.Strings("l"); }), "obj: 'l' must be an array of strings, got 1");
  EXPECT_EQ(Refusal([&] { f.OptObject("o"); }), "obj: 'o' must be an object, got [1]");
  EXPECT_EQ(Refusal([&] { f.Array("a"); }), "obj: 'a' must be an array, got \"x\"");
  EXPECT_EQ(Refusal([&] { f.String("missing"); }), "obj: 'missing' is required");
  EXPECT_EQ(f.OptString("missing"), std::nullopt);
  EXPECT_EQ(f.OptInt("missing"), std::nullopt);
  EXPECT_EQ(f.OptObject("missing"), nullptr);
}

TEST(StrictJson, IntegersAreWholeAndWithinTheirRange) {
  const nlohmann::json j = nlohmann::json::parse(
      R"({"whole":600.0,"half":1.5,"big":9223372036854775807,"over":9223372036854775808,
          "huge":1e300,"neg":-3,"edge":9.2233720368547758e18})");
  const JsonFields f(j, "plan", {"whole", "half", "big", "over", "huge", "neg", "edge"});
  EXPECT_EQ(f.Int("whole"), 600);
  EXPECT_EQ(f.Int("big"), INT64_MAX);
  EXPECT_EQ(Refusal([&] { f.Int("half"); }), "plan: 'half' must be a whole number, got 1.5");
  EXPECT_EQ(Refusal([&] { f.Int("over"); }), "plan: 'over' is out of range, got 9223372036854775808");
  EXPECT_NE(Refusal([&] { f.Int("huge"); }).find("is out of range"), std::string::npos);
  EXPECT_NE(Refusal([&] { f.Int("edge"); }).find("is out of range"), std::string::npos);  // 2^63
  EXPECT_EQ(Refusal([&] { f.Int("neg", 0); }), "plan: 'neg' must be at least 0, got -3");
  EXPECT_EQ(Refusal([&] { f.Int("whole", 1, 100); }), "plan: 'whole' must be in 1..100, got 600.0");
  EXPECT_EQ(Refusal([&] { f.OptInt("neg", JsonFields::kIntMin, -5); }), "plan: 'neg' must be at most -5, got -3");
}

TEST(StrictJson, NumbersAreFiniteAndWithinTheirRange) {
  const nlohmann::json j = {{"rate", 1.5}, {"off", nullptr}, {"ok", 0.25}};
  const JsonFields f(j, "gates", {"rate", "off", "ok"});
  EXPECT_EQ(f.Number("ok", 0, 1), 0.25);
  EXPECT_EQ(Refusal([&] { f.Number("rate", 0, 1); }), "gates: 'rate' must be in 0..1, got 1.5");
  EXPECT_EQ(Refusal([&] { f.OptNumber("rate", 2); }), "gates: 'rate' must be at least 2, got 1.5");
  EXPECT_EQ(f.OptNumber("off", 0, 1), std::nullopt);  // null: not given
  nlohmann::json inf = {{"x", std::numeric_limits<double>::infinity()}};
  EXPECT_EQ(Refusal([&] { JsonFields(inf, "m", {"x"}).Number("x"); }).rfind("m: 'x' must be a finite number", 0), 0u);
}

TEST(StrictJson, MessagesStayShortAndValidUtf8) {
  // A 10 KB key of two-byte characters: the message quotes at most about 60 bytes of it and
  // never half a character.
  std::string key;
  for (int i = 0; i < 5000; ++i) key += "\u00e9";
  const nlohmann::json j = {{key, 1}, {"v", std::string(10000, 'x')}};
  const std::string unknown = Refusal([&] { JsonFields(j, "body", {"v"}); });
  EXPECT_LT(unknown.size(), 150u);
  EXPECT_NO_THROW((void)nlohmann::json(unknown).dump()) << "valid UTF-8";
  const std::string type = Refusal([&] { JsonFields(j, "body", {"v", key}).Int("v"); });
  EXPECT_LT(type.size(), 150u);
  EXPECT_EQ(type.substr(type.size() - 3), "...") << type;
  EXPECT_EQ(ShowString("short"), "\"short\"");
}

TEST(StrictJson, CallersRefuseInTheSameForm) {
  const nlohmann::json j = {{"model", "a b"}};
  const JsonFields f(j, "request body", {"model"});
  EXPECT_EQ(Refusal([&] { f.Fail("model", "is not a valid model name"); }),
            "request body: 'model' is not a valid model name");
  EXPECT_EQ(Refusal([&] { f.FailObject("'model' and 'version' go together"); }),
            "request body: 'model' and 'version' go together");
}

}  // namespace
}  // namespace outpost
