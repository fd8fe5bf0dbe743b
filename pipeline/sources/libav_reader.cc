#include "pipeline/sources/libav_reader.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace outpost::pipeline {

struct LibavReader::State {
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  AVPacket* packet = nullptr;
  AVFrame* frame = nullptr;
  SwsContext* sws = nullptr;
  int stream = -1;
  // The decoder's output format and size the scaler was made for (it may change mid-stream).
  int sws_format = -1, sws_w = 0, sws_h = 0;

  ~State() {
    sws_freeContext(sws);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_close_input(&format);
  }
};

namespace {

std::string AvError(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof(buf));
  return buf;
}

}  // namespace

LibavReader::LibavReader(std::string path) : path_(std::move(path)), s_(new State) {}
LibavReader::~LibavReader() = default;

Expected<std::unique_ptr<LibavReader>> LibavReader::Open(const std::string& path) {
  std::unique_ptr<LibavReader> r(new LibavReader(path));
  State& s = *r->s_;
  int rc = avformat_open_input(&s.format, path.c_str(), nullptr, nullptr);
  if (rc < 0) return Error(path + ": cannot open as a video (" + AvError(rc) + ")");
  rc = avformat_find_stream_info(s.format, nullptr);
  if (rc < 0) return Error(path + ": cannot read stream information (" + AvError(rc) + ")");
  const AVCodec* decoder = nullptr;
  s.stream = av_find_best_stream(s.format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (s.stream < 0 || decoder == nullptr)
    return Error(path + ": no video stream with a supported codec");
  const AVStream* st = s.format->streams[s.stream];
  s.codec = avcodec_alloc_context3(decoder);
  if (s.codec == nullptr || avcodec_parameters_to_context(s.codec, st->codecpar) < 0)
    return Error(path + ": cannot set up the " + decoder->name + " decoder");
  rc = avcodec_open2(s.codec, decoder, nullptr);
  if (rc < 0)
    return Error(path + ": cannot open the " + decoder->name + " decoder (" + AvError(rc) + ")");
  if (s.codec->width <= 0 || s.codec->height <= 0) return Error(path + ": video has no frame size");
  s.packet = av_packet_alloc();
  s.frame = av_frame_alloc();
  if (s.packet == nullptr || s.frame == nullptr) return Error(path + ": out of memory");
  r->width_ = s.codec->width;
  r->height_ = s.codec->height;
  if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0)
    r->fps_ = av_q2d(st->avg_frame_rate);
  return r;
}

Expected<bool> LibavReader::ReadFrame(std::vector<uint8_t>& rgb) {
  State& s = *s_;
  const std::string where = path_ + ": frame " + std::to_string(frame_index_);
  while (!ended_) {
    int rc = avcodec_receive_frame(s.codec, s.frame);
    if (rc == 0) {
      const AVFrame& f = *s.frame;
      if (f.width != width_ || f.height != height_) {
        av_frame_unref(s.frame);
        ++frame_index_;
        return Error(where + " changes the frame size to " + std::to_string(f.width) + "x" +
                     std::to_string(f.height));
      }
      if (s.sws == nullptr || s.sws_format != f.format || s.sws_w != f.width ||
          s.sws_h != f.height) {
        sws_freeContext(s.sws);
        s.sws = sws_getContext(f.width, f.height, static_cast<AVPixelFormat>(f.format), width_,
                               height_, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr);
        s.sws_format = f.format;
        s.sws_w = f.width;
        s.sws_h = f.height;
        if (s.sws == nullptr) {
          av_frame_unref(s.frame);
          return Error(where + ": cannot convert its pixel format to RGB");
        }
      }
      rgb.resize(static_cast<size_t>(width_) * height_ * 3);
      uint8_t* dst[4] = {rgb.data(), nullptr, nullptr, nullptr};
      int dst_stride[4] = {width_ * 3, 0, 0, 0};
      sws_scale(s.sws, f.data, f.linesize, 0, f.height, dst, dst_stride);
      av_frame_unref(s.frame);
      ++frame_index_;
      return true;
    }
    if (rc == AVERROR_EOF) {
      ended_ = true;
      break;
    }
    if (rc != AVERROR(EAGAIN)) {
      ++frame_index_;
      return Error(where + " cannot be decoded (" + AvError(rc) + ")");
    }
    if (draining_) {
      ended_ = true;
      break;
    }
    // The decoder wants input: the next packet of the video stream, or a flush at the end.
    rc = av_read_frame(s.format, s.packet);
    if (rc < 0) {
      draining_ = true;
      avcodec_send_packet(s.codec, nullptr);
      continue;
    }
    if (s.packet->stream_index != s.stream) {
      av_packet_unref(s.packet);
      continue;
    }
    rc = avcodec_send_packet(s.codec, s.packet);
    av_packet_unref(s.packet);
    if (rc < 0 && rc != AVERROR(EAGAIN)) {
      ++frame_index_;
      return Error(where + " cannot be decoded (" + AvError(rc) + ")");
    }
  }
  return false;
}

Expected<Unit> LibavReader::Rewind() {
  State& s = *s_;
  const int rc = av_seek_frame(s.format, s.stream, 0, AVSEEK_FLAG_BACKWARD);
  if (rc < 0) return Error(path_ + ": cannot seek back to the first frame (" + AvError(rc) + ")");
  avcodec_flush_buffers(s.codec);
  frame_index_ = 0;
  draining_ = false;
  ended_ = false;
  return Unit{};
}

}  // namespace outpost::pipeline
