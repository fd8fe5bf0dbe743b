// The video source's libav path: files encoded here with libavcodec (lossless FFV1 in NUT,
// lossy MPEG-4 Part 2 in AVI), read back frame by frame.
#ifdef OUTPOST_LIBAV

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/sources/source_makers.h"
#include "tests/pipeline/source_test_files.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace outpost::pipeline {
namespace {

using testing::TempPath;
using testing::Yuv;

// Writes `colours.size()` flat-coloured YUV 4:2:0 frames of w x h at 25 fps; false on failure.
bool EncodeVideo(const std::string& path, AVCodecID codec_id, int w, int h,
                 const std::vector<Yuv>& colours) {
  AVFormatContext* fmt = nullptr;
  if (avformat_alloc_output_context2(&fmt, nullptr, nullptr, path.c_str()) < 0) return false;
  const AVCodec* codec = avcodec_find_encoder(codec_id);
  AVCodecContext* enc = codec ? avcodec_alloc_context3(codec) : nullptr;
  AVStream* st = avformat_new_stream(fmt, nullptr);
  AVFrame* frame = av_frame_alloc();
  AVPacket* pkt = av_packet_alloc();
  bool ok = enc && st && frame && pkt;
  if (ok) {
    enc->width = w;
    enc->height = h;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = {1, 25};
    enc->framerate = {25, 1};
    enc->gop_size = 2;
    if (fmt->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    ok = avcodec_open2(enc, codec, nullptr) >= 0 &&
         avcodec_parameters_from_context(st->codecpar, enc) >= 0;
  }
  if (ok) {
    st->time_base = enc->time_base;
    ok = avio_open(&fmt->pb, path.c_str(), AVIO_FLAG_WRITE) >= 0 &&
         avformat_write_header(fmt, nullptr) >= 0;
  }
  auto drain = [&] {
    while (avcodec_receive_packet(enc, pkt) == 0) {
      av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
      pkt->stream_index = st->index;
      if (av_interleaved_write_frame(fmt, pkt) < 0) ok = false;
    }
  };
  if (ok) {
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = w;
    frame->height = h;
    ok = av_frame_get_buffer(frame, 0) >= 0;
  }
  for (size_t i = 0; ok && i < colours.size(); ++i) {
    ok = av_frame_make_writable(frame) >= 0;
    const uint8_t value[3] = {colours[i].y, colours[i].u, colours[i].v};
    for (int p = 0; p < 3; ++p)
      for (int y = 0; y < (p ? (h + 1) / 2 : h); ++y)
        std::fill_n(frame->data[p] + y * frame->linesize[p], p ? (w + 1) / 2 : w, value[p]);
    frame->pts = static_cast<int64_t>(i);
    ok = ok && avcodec_send_frame(enc, frame) >= 0;
    drain();
  }
  if (ok) {
    avcodec_send_frame(enc, nullptr);
    drain();
    ok = av_write_trailer(fmt) >= 0;
  }
  if (fmt && fmt->pb) avio_closep(&fmt->pb);
  av_packet_free(&pkt);
  av_frame_free(&frame);
  avcodec_free_context(&enc);
  avformat_free_context(fmt);
  return ok;
}

void ExpectColours(const std::string& path, int w, int h, const std::vector<int>& reds, int tol) {
  Expected<std::unique_ptr<Source>> s = MakeVideoSource({{"path", path}}, "");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_NEAR((*s)->fps(), 0.0, 0);
  Frame f;
  for (size_t i = 0; i < reds.size(); ++i) {
    Expected<bool> got = (*s)->Next(f);
    ASSERT_TRUE(got.ok()) << got.message();
    ASSERT_TRUE(*got) << "frame " << i;
    ASSERT_EQ(f.width, w);
    ASSERT_EQ(f.height, h);
    ASSERT_EQ(f.pixels.size(), static_cast<size_t>(w) * h * 3);
    const size_t centre = (static_cast<size_t>(h / 2) * w + w / 2) * 3;
    EXPECT_NEAR(f.pixels[centre], reds[i], tol) << "frame " << i;
    EXPECT_NEAR(f.pixels[centre + 1], reds[i] == 255 ? 0 : 128, tol) << "frame " << i;
  }
  Expected<bool> end = (*s)->Next(f);
  ASSERT_TRUE(end.ok()) << end.message();
  EXPECT_FALSE(*end);
}

constexpr Yuv kRed{81, 90, 240};
constexpr Yuv kGray{126, 128, 128};

TEST(LibavVideoTest, ReadsLosslessFfv1InNut) {
  const std::string path = TempPath("ffv1.nut");
  ASSERT_TRUE(EncodeVideo(path, AV_CODEC_ID_FFV1, 32, 24, {kRed, kGray, kRed, kGray}));
  ExpectColours(path, 32, 24, {255, 128, 255, 128}, 2);
}

TEST(LibavVideoTest, ReadsMpeg4InAviAndLoops) {
  const std::string path = TempPath("mpeg4.avi");
  ASSERT_TRUE(EncodeVideo(path, AV_CODEC_ID_MPEG4, 48, 32, {kGray, kRed, kRed}));
  ExpectColours(path, 48, 32, {128, 255, 255}, 12);
  Expected<std::unique_ptr<Source>> s =
      MakeVideoSource({{"path", path}, {"loop", true}, {"realtime", true}}, "");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_NEAR((*s)->fps(), 25.0, 1e-9);
  Frame f;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(*(*s)->Next(f)) << i;
  EXPECT_NEAR(f.pixels[0], 128, 12);  // the fourth frame is the first again
}

TEST(LibavVideoTest, CorruptFileIsAnError) {
  const std::string path = TempPath("corrupt.avi");
  testing::WriteFile(path, std::string("RIFF\x10\0\0\0AVI LIST garbage garbage garbage", 40));
  EXPECT_FALSE(MakeVideoSource({{"path", path}}, "").ok());
}

}  // namespace
}  // namespace outpost::pipeline

#endif  // OUTPOST_LIBAV
