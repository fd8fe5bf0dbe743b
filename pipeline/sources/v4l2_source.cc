// The "v4l2" source: a Video4Linux2 camera streaming through memory-mapped buffers
// (VIDIOC_REQBUFS / QBUF / DQBUF), waiting for each frame with select() and a timeout.
#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "pipeline/config/json_options.h"
#include "pipeline/config/pipeline_config.h"
#include "pipeline/sources/source_makers.h"
#include "pipeline/sources/source_clock.h"
#include "pipeline/sources/v4l2_frame.h"

namespace outpost::pipeline {
namespace {

constexpr int kBuffers = 4;

// ioctl restarted when a signal interrupts it.
int Xioctl(int fd, unsigned long request, void* arg) {
  int rc;
  do rc = ioctl(fd, request, arg);
  while (rc == -1 && errno == EINTR);
  return rc;
}

std::string Errno() { return std::strerror(errno); }

struct V4l2Options {
  std::string device = "/dev/video0";
  int width = 640;
  int height = 480;
  double fps = 30;
  std::string format = "auto";  // auto, yuyv, mjpeg, rgb24, grey
  int timeout_ms = 2000;
};

class V4l2Source final : public Source {
 public:
  explicit V4l2Source(V4l2Options o) : o_(std::move(o)) {}

  ~V4l2Source() override {
    if (fd_ < 0) return;
    if (streaming_) {
      v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      Xioctl(fd_, VIDIOC_STREAMOFF, &type);
    }
    for (const Mapping& m : buffers_) munmap(m.start, m.length);
    close(fd_);
  }

  Expected<Unit> Open() {
    const std::string& dev = o_.device;
    fd_ = open(dev.c_str(), O_RDWR | O_NONBLOCK);
    if (fd_ < 0) return Error(dev + ": cannot open (" + Errno() + ")");
    v4l2_capability cap{};
    if (Xioctl(fd_, VIDIOC_QUERYCAP, &cap) < 0)
      return Error(dev + ": not a V4L2 video device (VIDIOC_QUERYCAP: " + Errno() + ")");
    const uint32_t caps =
        (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) return Error(dev + ": not a video capture device");
    if (!(caps & V4L2_CAP_STREAMING)) return Error(dev + ": does not support streaming I/O");
    card_ = reinterpret_cast<const char*>(cap.card);

    Expected<Unit> fmt = NegotiateFormat();
    if (!fmt) return fmt;
    NegotiateRate();

    v4l2_requestbuffers req{};
    req.count = kBuffers;
    req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    req.memory = V4L2_MEMORY_MMAP;
    if (Xioctl(fd_, VIDIOC_REQBUFS, &req) < 0 || req.count < 2)
      return Error(dev + ": cannot allocate capture buffers (VIDIOC_REQBUFS: " + Errno() + ")");
    for (uint32_t i = 0; i < req.count; ++i) {
      v4l2_buffer b{};
      b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      b.memory = V4L2_MEMORY_MMAP;
      b.index = i;
      if (Xioctl(fd_, VIDIOC_QUERYBUF, &b) < 0)
        return Error(dev + ": VIDIOC_QUERYBUF failed (" + Errno() + ")");
      void* p = mmap(nullptr, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, b.m.offset);
      if (p == MAP_FAILED) return Error(dev + ": cannot map capture buffer (" + Errno() + ")");
      buffers_.push_back({p, b.length});
      if (Xioctl(fd_, VIDIOC_QBUF, &b) < 0)
        return Error(dev + ": VIDIOC_QBUF failed (" + Errno() + ")");
    }
    v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (Xioctl(fd_, VIDIOC_STREAMON, &type) < 0)
      return Error(dev + ": cannot start streaming (" + Errno() + ")");
    streaming_ = true;
    return Unit{};
  }

  Expected<bool> Next(Frame& frame) override {
    const std::string& dev = o_.device;
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(fd_, &fds);
    timeval tv{o_.timeout_ms / 1000, (o_.timeout_ms % 1000) * 1000};
    const int rc = select(fd_ + 1, &fds, nullptr, nullptr, &tv);
    if (rc < 0 && errno != EINTR) return Error(dev + ": select failed (" + Errno() + ")");
    if (rc <= 0) return Error(dev + ": no frame within " + std::to_string(o_.timeout_ms) + " ms");
    v4l2_buffer b{};
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    if (Xioctl(fd_, VIDIOC_DQBUF, &b) < 0) {
      if (errno == EAGAIN) return Error(dev + ": no frame ready");
      return Error(dev + ": VIDIOC_DQBUF failed (" + Errno() + ")");
    }
    const Mapping& m = buffers_.at(b.index);
    const std::span<const uint8_t> bytes(static_cast<const uint8_t*>(m.start),
                                         std::min<size_t>(b.bytesused, m.length));
    Expected<Unit> converted =
        V4l2BufferToFrame(format_, bytes, width_, height_, stride_, dev, frame);
    // The buffer goes back to the driver whatever the conversion gave.
    if (Xioctl(fd_, VIDIOC_QBUF, &b) < 0)
      return Error(dev + ": VIDIOC_QBUF failed (" + Errno() + ")");
    if (!converted) return converted.error();
    StampFrame(frame, Frame::Kind::kImage, sequence_++, dev);
    return true;
  }

  std::string Describe() const override {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%dx%d %s @ %g fps", width_, height_, V4l2FormatName(format_),
                  fps_);
    return "camera " + o_.device + " (" + card_ + ", " + buf + ")";
  }

  double fps() const override { return fps_; }

 private:
  struct Mapping {
    void* start;
    size_t length;
  };

  Expected<Unit> NegotiateFormat() {
    std::vector<V4l2Format> wanted;
    if (o_.format == "auto")
      wanted = {V4l2Format::kYuyv, V4l2Format::kMjpeg, V4l2Format::kRgb24, V4l2Format::kGrey};
    else if (o_.format == "yuyv")
      wanted = {V4l2Format::kYuyv};
    else if (o_.format == "mjpeg")
      wanted = {V4l2Format::kMjpeg};
    else if (o_.format == "rgb24")
      wanted = {V4l2Format::kRgb24};
    else
      wanted = {V4l2Format::kGrey};
    for (V4l2Format f : wanted) {
      v4l2_format fmt{};
      fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      fmt.fmt.pix.width = static_cast<uint32_t>(o_.width);
      fmt.fmt.pix.height = static_cast<uint32_t>(o_.height);
      fmt.fmt.pix.pixelformat = static_cast<uint32_t>(f);
      fmt.fmt.pix.field = V4L2_FIELD_NONE;
      // The driver adjusts what it cannot do; a different pixel format means "not supported".
      if (Xioctl(fd_, VIDIOC_S_FMT, &fmt) < 0 ||
          fmt.fmt.pix.pixelformat != static_cast<uint32_t>(f))
        continue;
      format_ = f;
      width_ = static_cast<int>(fmt.fmt.pix.width);
      height_ = static_cast<int>(fmt.fmt.pix.height);
      stride_ = static_cast<int>(fmt.fmt.pix.bytesperline);
      return Unit{};
    }
    return Error(o_.device + ": the camera offers none of the formats asked for (" + o_.format +
                 "; supported are YUYV, MJPEG, RGB24, GREY)");
  }

  // Asks for o_.fps; keeps what the driver reports (or the request when it cannot say).
  void NegotiateRate() {
    fps_ = o_.fps;
    v4l2_streamparm parm{};
    parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    parm.parm.capture.timeperframe.numerator = 1000;
    parm.parm.capture.timeperframe.denominator = static_cast<uint32_t>(std::lround(o_.fps * 1000));
    if (Xioctl(fd_, VIDIOC_S_PARM, &parm) == 0 && parm.parm.capture.timeperframe.numerator > 0 &&
        parm.parm.capture.timeperframe.denominator > 0)
      fps_ = static_cast<double>(parm.parm.capture.timeperframe.denominator) /
             parm.parm.capture.timeperframe.numerator;
  }

  V4l2Options o_;
  int fd_ = -1;
  bool streaming_ = false;
  std::string card_;
  std::vector<Mapping> buffers_;
  V4l2Format format_ = V4l2Format::kYuyv;
  int width_ = 0, height_ = 0, stride_ = 0;
  double fps_ = 0;
  uint64_t sequence_ = 0;
};

}  // namespace

// Device paths are used as given (they are absolute), not resolved against the base directory.
Expected<std::unique_ptr<Source>> MakeV4l2Source(const nlohmann::json& options,
                                                 const std::string& /*base_dir*/) {
  return Capture([&]() -> std::unique_ptr<Source> {
    constexpr std::string_view where = "v4l2 source";
    CheckKeys(options, where,
                    {"type", "device", "width", "height", "fps", "format", "timeout_ms"});
    V4l2Options o;
    o.device = ReadOr(options, where, "device", o.device);
    o.width = ReadOr(options, where, "width", o.width);
    o.height = ReadOr(options, where, "height", o.height);
    o.fps = ReadOr(options, where, "fps", o.fps);
    o.format = ReadOr(options, where, "format", o.format);
    o.timeout_ms = ReadOr(options, where, "timeout_ms", o.timeout_ms);
    if (o.width < 1 || o.width > 8192 || o.height < 1 || o.height > 8192)
      throw Error("v4l2 source: width and height must be within 1..8192");
    if (!(o.fps > 0 && o.fps <= 1000)) throw Error("v4l2 source: fps must be within (0, 1000]");
    if (o.timeout_ms < 1) throw Error("v4l2 source: timeout_ms must be positive");
    if (o.format != "auto" && o.format != "yuyv" && o.format != "mjpeg" && o.format != "rgb24" &&
        o.format != "grey")
      throw Error("v4l2 source: format '" + o.format +
                  "' is not one of auto, yuyv, mjpeg, rgb24, grey");
    auto source = std::make_unique<V4l2Source>(std::move(o));
    Expected<Unit> opened = source->Open();
    if (!opened) throw opened.error();
    return source;
  });
}

}  // namespace outpost::pipeline
