// The "video" source: Y4M natively, anything else through libavformat/libavcodec.
#include <cstdio>
#include <fstream>
#include <memory>

#include "pipeline/config/json_options.h"
#include "pipeline/config/pipeline_config.h"
#include "pipeline/sources/source_makers.h"
#include "pipeline/sources/source_clock.h"
#include "pipeline/sources/y4m_reader.h"
#ifdef OUTPOST_LIBAV
#include "pipeline/sources/libav_reader.h"
#endif

namespace outpost::pipeline {
namespace {

bool StartsWithY4mMagic(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[9] = {};
  f.read(magic, sizeof(magic));
  return f.gcount() == sizeof(magic) && std::string(magic, sizeof(magic)) == "YUV4MPEG2";
}

class VideoSource final : public Source {
 public:
  VideoSource(std::string path, bool loop, bool realtime)
      : path_(std::move(path)), loop_(loop), realtime_(realtime) {}

  Expected<Unit> Open() {
    Expected<Unit> r = OpenReader();
    if (r.ok() && file_fps_ > 0) pacer_ = FramePacer(file_fps_);
    return r;
  }

 private:
  Expected<Unit> OpenReader() {
    if (!std::ifstream(path_, std::ios::binary)) return Error(path_ + ": cannot open");
    if (StartsWithY4mMagic(path_)) {
      Expected<std::unique_ptr<Y4mReader>> r = Y4mReader::OpenFile(path_);
      if (!r) return r.error();
      y4m_ = std::move(*r);
      width_ = y4m_->header().width;
      height_ = y4m_->header().height;
      file_fps_ = y4m_->header().fps();
      return Unit{};
    }
#ifdef OUTPOST_LIBAV
    Expected<std::unique_ptr<LibavReader>> r = LibavReader::Open(path_);
    if (!r) return r.error();
    av_ = std::move(*r);
    width_ = av_->width();
    height_ = av_->height();
    file_fps_ = av_->fps();
    return Unit{};
#else
    return Error(path_ +
                 ": not a Y4M file, and this build reads no other video format "
                 "(configure with OUTPOST_LIBAV=ON and the libav* libraries)");
#endif
  }

 public:
  Expected<bool> Next(Frame& frame) override {
    if (realtime_ && file_fps_ > 0) pacer_.Wait();
    Expected<bool> got = Read(frame);
    if (got.ok() && !*got && loop_ && read_any_) {
      Expected<Unit> r = Rewind();
      if (!r) return r.error();
      got = Read(frame);
    }
    if (!got.ok() || !*got) return got;
    read_any_ = true;
    frame.format = io::PixelFormat::kRgb;
    StampFrame(frame, Frame::Kind::kImage, sequence_++, path_);
    return true;
  }

  std::string Describe() const override {
    std::string d =
        "video " + path_ + " (" + std::to_string(width_) + "x" + std::to_string(height_);
    if (file_fps_ > 0) d += " @ " + FpsText() + " fps";
    if (loop_) d += ", looping";
    return d + ")";
  }

  double fps() const override { return realtime_ ? file_fps_ : 0.0; }

 private:
  std::string FpsText() const {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", file_fps_);
    return buf;
  }

  Expected<bool> Read(Frame& frame) {
    frame.width = width_;
    frame.height = height_;
    if (y4m_) return y4m_->ReadFrame(frame.pixels);
#ifdef OUTPOST_LIBAV
    return av_->ReadFrame(frame.pixels);
#else
    return false;
#endif
  }

  Expected<Unit> Rewind() {
    if (y4m_) return y4m_->Rewind();
#ifdef OUTPOST_LIBAV
    return av_->Rewind();
#else
    return Unit{};
#endif
  }

  std::string path_;
  bool loop_;
  bool realtime_;
  std::unique_ptr<Y4mReader> y4m_;
#ifdef OUTPOST_LIBAV
  std::unique_ptr<LibavReader> av_;
#endif
  int width_ = 0, height_ = 0;
  double file_fps_ = 0;
  bool read_any_ = false;
  uint64_t sequence_ = 0;
  FramePacer pacer_{1.0};
};

}  // namespace

Expected<std::unique_ptr<Source>> MakeVideoSource(const nlohmann::json& options,
                                                  const std::string& base_dir) {
  return Capture([&]() -> std::unique_ptr<Source> {
    constexpr std::string_view where = "video source";
    CheckKeys(options, where, {"type", "path", "loop", "realtime"});
    const std::string path = ReadOr<std::string>(options, where, "path", "");
    if (path.empty()) throw Error("video source: option 'path' is required");
    auto source = std::make_unique<VideoSource>(ResolvePath(base_dir, path),
                                                ReadOr(options, where, "loop", false),
                                                ReadOr(options, where, "realtime", false));
    Expected<Unit> opened = source->Open();
    if (!opened) throw opened.error();
    return source;
  });
}

}  // namespace outpost::pipeline
