// Every kind of bad delta is refused with one clear reason, and nothing crashes.
#include <gtest/gtest.h>

#include "package/delta_body.h"
#include "package/delta_zstd.h"
#include "package/model_delta.h"
#include "tests/package/delta_test_models.h"

namespace outpost::package {
namespace {

class DeltaRefusal : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = testing::SmallModel();
    target_ = testing::WithChangedBuffer(base_, 0);
    delta_ = MakeModelDelta(base_, target_, envelope_).value();
    header_ = DecodeDeltaHeader(delta_).value();
  }

  // The message of applying `delta` to the base, or "" when it was (wrongly) accepted.
  std::string Refusal(const std::vector<uint8_t>& delta, const DeltaLimits& limits = {}) {
    auto applied = ApplyModelDelta(base_, delta, limits);
    return applied.ok() ? std::string() : applied.message();
  }

  // A well-sealed delta (valid header hash and body hash) around a chosen body.
  std::vector<uint8_t> Sealed(const std::vector<uint8_t>& body) {
    DeltaHeader h = header_;
    h.body_bytes = body.size();
    return AssembleDelta(h, ZstdCompress(body, 1).value());
  }

  // A body that rebuilds the target: envelope, the whole target as one literal.
  DeltaBodyWriter Writer() { return DeltaBodyWriter(envelope_); }

  std::vector<uint8_t> base_, target_, delta_;
  std::vector<uint8_t> envelope_ = {1, 2, 3, 4, 5};
  DeltaHeader header_;
};

TEST_F(DeltaRefusal, ADeltaForAnotherBaseBeforeAnythingElse) {
  const auto other = testing::WithChangedBuffer(base_, 1);
  auto applied = ApplyModelDelta(other, delta_);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.message().rfind("delta: made for another base model (BLAKE2b-256 ", 0), 0u)
      << applied.message();
  // Even with a corrupt body, the wrong base is what is reported.
  auto corrupt = delta_;
  corrupt.back() ^= 1;
  EXPECT_EQ(ApplyModelDelta(other, corrupt).message(), applied.message());
  // A base of another size.
  auto longer = base_;
  longer.push_back(0);
  EXPECT_EQ(ApplyModelDelta(longer, delta_).message().rfind("delta: made for another base", 0), 0u);
}

TEST_F(DeltaRefusal, AFlippedByteAnywhere) {
  ASSERT_LT(delta_.size(), 20000u) << "the small delta is meant to be flipped byte by byte";
  for (size_t i = 0; i < delta_.size(); ++i) {
    for (uint8_t bit : {0x01, 0x80}) {
      auto bad = delta_;
      bad[i] ^= bit;
      const std::string why = Refusal(bad);
      ASSERT_FALSE(why.empty()) << "byte " << i << " flipped was accepted";
      if (i >= header_.header_bytes) {
        EXPECT_EQ(why, "delta: body is corrupt (its hash does not match the header)") << i;
      } else if (i >= 16) {
        EXPECT_EQ(why, "delta: header is corrupt (its hash does not match)") << i;
      }
    }
  }
}

TEST_F(DeltaRefusal, FlippedHeaderPrefixBytesNameWhatTheyBreak) {
  auto magic = delta_;
  magic[0] ^= 1;
  EXPECT_EQ(Refusal(magic), "delta: not a model delta (bad magic)");
  auto size = delta_;
  size[12] ^= 1;
  EXPECT_EQ(Refusal(size), "delta: header size 209 is invalid");
}

TEST_F(DeltaRefusal, TruncatedAtEveryLength) {
  for (size_t n = 0; n < delta_.size(); ++n) {
    const std::vector<uint8_t> cut(delta_.begin(), delta_.begin() + n);
    const std::string why = Refusal(cut);
    EXPECT_EQ(why.rfind("delta: truncated: " + std::to_string(n) + " bytes", 0), 0u)
        << "length " << n << ": " << why;
    EXPECT_FALSE(ReadModelDeltaInfo(cut).ok()) << n;
  }
}

TEST_F(DeltaRefusal, TrailingGarbage) {
  auto longer = delta_;
  longer.push_back(0);
  EXPECT_EQ(Refusal(longer), "delta: 1 bytes of trailing data after the body");
  EXPECT_EQ(ReadModelDeltaInfo(longer).message(), Refusal(longer));
  // Inside the sealed body, after the zstd frame.
  const DeltaHeader h = DecodeDeltaHeader(delta_).value();
  std::vector<uint8_t> body(delta_.begin() + h.header_bytes, delta_.end());
  body.push_back(0x42);
  EXPECT_EQ(Refusal(AssembleDelta(h, body)), "delta: 1 bytes after the end of the compressed body");
}

TEST_F(DeltaRefusal, AnUnknownFormatVersion) {
  DeltaHeader h = header_;
  h.format_major = 2;
  h.format_minor = 4;
  const std::vector<uint8_t> body(delta_.begin() + header_.header_bytes, delta_.end());
  EXPECT_EQ(Refusal(AssembleDelta(h, body)), "delta: format version 2.4, this reader reads 1.x");
  EXPECT_EQ(ReadModelDeltaInfo(AssembleDelta(h, body)).message(),
            "delta: format version 2.4, this reader reads 1.x");
}

TEST_F(DeltaRefusal, ANewerMinorVersionWithALongerHeaderIsRead) {
  DeltaHeader h = header_;
  h.format_minor = 1;
  h.header_bytes = kDeltaHeaderBytes + 24;  // fields this reader does not know
  const std::vector<uint8_t> body(delta_.begin() + header_.header_bytes, delta_.end());
  auto applied = ApplyModelDelta(base_, AssembleDelta(h, body));
  ASSERT_TRUE(applied.ok()) << applied.message();
  EXPECT_EQ(applied->model, target_);
  EXPECT_EQ(applied->info.format_minor, 1);
}

TEST_F(DeltaRefusal, ABodyThatDecompressesBeyondItsDeclaredSize) {
  // 64 MiB of zeros compress to a few KiB; the declared size is 1000 bytes.
  const std::vector<uint8_t> zeros(64 << 20, 0);
  const auto frame = ZstdCompress(zeros, 1).value();
  ASSERT_LT(frame.size(), 10000u);
  DeltaHeader h = header_;
  h.envelope_bytes = 0;
  h.body_bytes = 1000;
  EXPECT_EQ(Refusal(AssembleDelta(h, frame)),
            "delta: body decompresses to more than the declared 1000 bytes");
  // One byte more than declared is enough.
  const std::vector<uint8_t> real(delta_.begin() + header_.header_bytes, delta_.end());
  h = header_;
  h.body_bytes -= 1;
  EXPECT_EQ(Refusal(AssembleDelta(h, real)), "delta: body decompresses to more than the declared " +
                                                 std::to_string(h.body_bytes) + " bytes");
  // And one byte fewer.
  h.body_bytes += 2;
  EXPECT_EQ(Refusal(AssembleDelta(h, real)), "delta: body decompresses to " +
                                                 std::to_string(header_.body_bytes) +
                                                 " bytes, the header declares " +
                                                 std::to_string(h.body_bytes));
}

TEST_F(DeltaRefusal, DeclaredSizesBeyondTheLimits) {
  DeltaLimits small;
  small.max_model_bytes = 4096;
  small.max_envelope_bytes = 4;
  EXPECT_EQ(Refusal(delta_, small), "delta: target model of " + std::to_string(target_.size()) +
                                        " bytes exceeds the limit of 4096");
  small.max_model_bytes = 1 << 20;
  EXPECT_EQ(Refusal(delta_, small), "delta: envelope of 5 bytes exceeds the limit of 4");
  DeltaHeader h = header_;
  h.body_bytes = (1ull << 31) + (1 << 20) + 1;
  const std::vector<uint8_t> body(delta_.begin() + header_.header_bytes, delta_.end());
  EXPECT_EQ(Refusal(AssembleDelta(h, body)), "delta: declared body of " +
                                                 std::to_string(h.body_bytes) +
                                                 " bytes exceeds the limit of " +
                                                 std::to_string((1ull << 31) + (1 << 20)));
}

TEST_F(DeltaRefusal, OutOfRangeInstructions) {
  auto copy_outside = Writer();
  copy_outside.Copy(base_.size() - 10, 20);
  EXPECT_NE(Refusal(Sealed(copy_outside.Finish())).find("lies outside the " +
                                                        std::to_string(base_.size()) +
                                                        "-byte base model"),
            std::string::npos);
  auto copy_wraps = Writer();
  copy_wraps.Copy(~0ull - 4, 8);
  EXPECT_NE(Refusal(Sealed(copy_wraps.Finish())).find("lies outside"), std::string::npos);
  auto past_target = Writer();
  past_target.Literal(std::span<const uint8_t>(target_.data(), target_.size() - 8));
  past_target.Copy(0, 16);
  EXPECT_NE(Refusal(Sealed(past_target.Finish())).find("copy runs past the end of the target"),
            std::string::npos);
  auto too_short = Writer();
  too_short.Copy(0, 64);
  EXPECT_EQ(Refusal(Sealed(too_short.Finish())),
            "delta: the instructions rebuild 64 bytes, the target model has " +
                std::to_string(target_.size()));
  std::vector<uint8_t> unknown = envelope_;
  unknown.push_back(9);
  EXPECT_EQ(Refusal(Sealed(unknown)),
            "delta: instruction at body offset 5: unknown instruction 9");
  std::vector<uint8_t> literal = envelope_;
  literal.insert(literal.end(), {2, 200, 0, 0, 0, 0, 0, 0, 0, 1, 2});
  EXPECT_EQ(Refusal(Sealed(literal)),
            "delta: instruction at body offset 5: literal runs past the end of the body");
  std::vector<uint8_t> cut_copy = envelope_;
  cut_copy.insert(cut_copy.end(), {1, 0, 0, 0});
  EXPECT_EQ(Refusal(Sealed(cut_copy)), "delta: instruction at body offset 5: truncated copy");
  DeltaHeader h = header_;
  h.prefix_bytes = base_.size() + 1;
  EXPECT_EQ(Refusal(AssembleDelta(h, std::vector<uint8_t>(delta_.begin() + h.header_bytes,
                                                          delta_.end()))),
            "delta: compression prefix of " + std::to_string(base_.size() + 1) +
                " bytes is longer than the base model");
  h = header_;
  h.envelope_bytes = 100;  // longer than the body below
  h.body_bytes = 5;
  EXPECT_EQ(Refusal(AssembleDelta(h, ZstdCompress(envelope_, 1).value())),
            "delta: declared body is shorter than its envelope");
}

TEST_F(DeltaRefusal, ARebuiltModelThatIsNotTheTarget) {
  DeltaHeader h = header_;
  h.target_hash[0] ^= 1;
  const std::vector<uint8_t> body(delta_.begin() + header_.header_bytes, delta_.end());
  EXPECT_EQ(Refusal(AssembleDelta(h, body)).rfind(
                "delta: the rebuilt model does not match the target's BLAKE2b-256 ", 0),
            0u);
  // The right length and hash, but header counts that disagree with the body.
  h = header_;
  h.tensors_copied += 1;
  EXPECT_EQ(Refusal(AssembleDelta(h, body)).rfind("delta: the body copies ", 0), 0u);
}

}  // namespace
}  // namespace outpost::package
