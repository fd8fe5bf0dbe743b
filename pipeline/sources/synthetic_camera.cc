#include "pipeline/sources/synthetic_camera.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>

#include "pipeline/config/json_options.h"
#include "pipeline/postprocess/box.h"

namespace outpost::pipeline {
namespace {

// splitmix64: tiny, fast and identical everywhere, unlike the std:: distributions whose
// results differ between standard libraries.
uint64_t NextU64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1).
double Uniform(uint64_t& s) { return static_cast<double>(NextU64(s) >> 11) * 0x1.0p-53; }
double Uniform(uint64_t& s, double lo, double hi) { return lo + (hi - lo) * Uniform(s); }

// Standard normal by the Irwin-Hall sum of 12 uniforms: no libm call, so bit-exact everywhere,
// and the tails cut at 6 sigma do not matter for sensor noise.
double Gaussian(uint64_t& s) {
  double sum = 0;
  for (int i = 0; i < 12; ++i) sum += Uniform(s);
  return sum - 6.0;
}

uint8_t Clamp8(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

// Triangle wave in [-1, 1] with the given period: a slow drift without libm.
double Triangle(uint64_t t, uint64_t period) {
  const double phase = static_cast<double>(t % period) / static_cast<double>(period);
  return phase < 0.5 ? 4 * phase - 1 : 3 - 4 * phase;
}

constexpr size_t kNoiseTableSize = size_t{1} << 17;  // a power of two, several frames' worth
constexpr uint64_t kLightingPeriod = 300;            // frames of one slow drift cycle
constexpr double kLightingJumpChance = 1.0 / 60;     // per frame
constexpr uint64_t kEffectsStream = 0x5DEECE66Dull;  // keeps effects off the scene's stream

using nlohmann::json;

// The options' reader, with the source named in its errors.
template <typename T>
T Get(const json& j, const char* key, T fallback, T lo, T hi) {
  return ReadInRange(j, "synthetic camera", key, fallback, lo, hi);
}

}  // namespace

const char* SyntheticShapeName(int class_id) {
  static const char* const kNames[kSyntheticClassCount] = {"circle", "square", "triangle"};
  return class_id >= 0 && class_id < kSyntheticClassCount ? kNames[class_id] : "";
}

Expected<SyntheticCameraOptions> ParseSyntheticCameraOptions(const json& j) {
  return Capture([&] {
    CheckKeys(j, "synthetic camera",
              {"type", "width", "height", "fps", "realtime", "frames", "seed", "objects",
               "scene_frames", "lighting", "noise", "blur", "occlusion", "still", "glitch"});
    if (j.contains("type") && j.at("type") != "synthetic")
      throw Error("synthetic camera: 'type' must be \"synthetic\"");
    SyntheticCameraOptions o;
    o.width = Get(j, "width", o.width, 16, 4096);
    o.height = Get(j, "height", o.height, 16, 4096);
    o.fps = Get(j, "fps", o.fps, 0.01, 1000.0);
    o.realtime = Get(j, "realtime", o.realtime, false, true);
    o.frames = Get<uint64_t>(j, "frames", o.frames, 0, UINT64_MAX);
    o.seed = Get<uint64_t>(j, "seed", o.seed, 0, UINT64_MAX);
    o.scene_frames = Get<uint64_t>(j, "scene_frames", o.scene_frames, 0, UINT64_MAX);
    if (j.contains("objects")) {
      const json& n = j.at("objects");
      if (n.is_array() && n.size() == 2) {
        const json range = {{"min", n[0]}, {"max", n[1]}};
        o.min_objects = Get(range, "min", 0, 0, 64);
        o.max_objects = Get(range, "max", 0, 0, 64);
        if (o.min_objects > o.max_objects)
          throw Error("synthetic camera: option 'objects' must be [min, max] with min <= max");
      } else if (n.is_number_integer()) {
        o.min_objects = o.max_objects = Get(j, "objects", 0, 0, 64);
      } else {
        throw Error("synthetic camera: option 'objects' must be a count or [min, max]");
      }
    }
    o.lighting = Get(j, "lighting", o.lighting, 0.0, 1.0);
    o.noise = Get(j, "noise", o.noise, 0.0, 64.0);
    o.blur = Get(j, "blur", o.blur, 0, 32);
    o.occlusion = Get(j, "occlusion", o.occlusion, 0.0, 1.0);
    o.still = Get(j, "still", o.still, false, true);
    o.glitch = Get(j, "glitch", o.glitch, 0.0, 1.0);
    return o;
  });
}

SyntheticCamera::SyntheticCamera(const SyntheticCameraOptions& options)
    : o_(options), scene_rng_(options.seed), effects_rng_(options.seed ^ kEffectsStream) {
  if (o_.noise > 0) {
    noise_table_.resize(kNoiseTableSize);
    for (int8_t& v : noise_table_)
      v = static_cast<int8_t>(
          std::clamp(std::lround(Gaussian(effects_rng_) * o_.noise), -127L, 127L));
  }
  NewScene();
}

// A new background texture and a new set of objects, all from the scene stream.
void SyntheticCamera::NewScene() {
  const int w = o_.width, h = o_.height;
  const float unit = static_cast<float>(std::min(w, h));
  uint64_t& r = scene_rng_;

  // Background: a tinted grey, tiles of random brightness and fine diagonal stripes, so a
  // detector cannot find objects by looking for any texture at all.
  int base[3];
  const int grey = static_cast<int>(Uniform(r, 60, 150));
  for (int& c : base) c = grey + static_cast<int>(Uniform(r, -25, 25));
  const int tile = std::max(4, static_cast<int>(unit / 12));
  const int tiles_x = (w + tile - 1) / tile, tiles_y = (h + tile - 1) / tile;
  std::vector<int> jitter(static_cast<size_t>(tiles_x) * tiles_y);
  for (int& v : jitter) v = static_cast<int>(Uniform(r, -22, 22));
  const int stripe_amp = static_cast<int>(Uniform(r, 0, 10));
  background_.resize(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    uint8_t* row = &background_[static_cast<size_t>(y) * w * 3];
    for (int x = 0; x < w; ++x) {
      const int t = jitter[static_cast<size_t>(y / tile) * tiles_x + x / tile];
      const int s = ((x + y) % 6 < 3) ? stripe_amp : -stripe_amp;
      for (int c = 0; c < 3; ++c) row[x * 3 + c] = Clamp8(base[c] + t + s);
    }
  }

  objects_.clear();
  const int count =
      o_.min_objects + static_cast<int>(Uniform(r) * (o_.max_objects - o_.min_objects + 1));
  for (int i = 0; i < count; ++i) {
    Object ob;
    ob.shape = static_cast<SyntheticShape>(NextU64(r) % kSyntheticClassCount);
    ob.half = static_cast<float>(Uniform(r, 0.05, 0.14)) * unit;
    ob.cx = static_cast<float>(Uniform(r, 0, w));
    ob.cy = static_cast<float>(Uniform(r, 0, h));
    const float speed = 0.015f * unit;
    ob.vx = static_cast<float>(Uniform(r, 0.25, 1.0)) * speed * (NextU64(r) & 1 ? 1.f : -1.f);
    ob.vy = static_cast<float>(Uniform(r, 0.25, 1.0)) * speed * (NextU64(r) & 1 ? 1.f : -1.f);
    // A colour far from the background's, so every object is visible without effects.
    int rgb[3];
    do {
      for (int& c : rgb) c = static_cast<int>(Uniform(r, 0, 256));
    } while (std::abs(rgb[0] - base[0]) + std::abs(rgb[1] - base[1]) + std::abs(rgb[2] - base[2]) <
             150);
    for (int c = 0; c < 3; ++c) ob.rgb[c] = static_cast<uint8_t>(rgb[c]);
    objects_.push_back(ob);
  }
}

// Objects bounce when their centre reaches an edge, so they may be half outside the frame.
void SyntheticCamera::Move() {
  if (o_.still) return;
  const float w = static_cast<float>(o_.width), h = static_cast<float>(o_.height);
  for (Object& ob : objects_) {
    ob.cx += ob.vx;
    ob.cy += ob.vy;
    if (ob.cx < 0) ob.cx = -ob.cx, ob.vx = -ob.vx;
    if (ob.cx > w) ob.cx = 2 * w - ob.cx, ob.vx = -ob.vx;
    if (ob.cy < 0) ob.cy = -ob.cy, ob.vy = -ob.vy;
    if (ob.cy > h) ob.cy = 2 * h - ob.cy, ob.vy = -ob.vy;
  }
}

void SyntheticCamera::Render(Frame& f) {
  const int w = o_.width, h = o_.height;
  uint8_t* px = f.pixels.data();
  std::memcpy(px, background_.data(), background_.size());
  for (const Object& ob : objects_) {
    // Pixel (x, y) is covered when its centre is inside the shape.
    const int x0 = std::max(0, static_cast<int>(std::floor(ob.cx - ob.half)));
    const int x1 = std::min(w, static_cast<int>(std::ceil(ob.cx + ob.half)));
    const int y0 = std::max(0, static_cast<int>(std::floor(ob.cy - ob.half)));
    const int y1 = std::min(h, static_cast<int>(std::ceil(ob.cy + ob.half)));
    const float r2 = ob.half * ob.half;
    for (int y = y0; y < y1; ++y) {
      const float py = static_cast<float>(y) + 0.5f - ob.cy;  // relative to the centre
      if (py < -ob.half || py > ob.half) continue;
      uint8_t* row = px + static_cast<size_t>(y) * w * 3;
      for (int x = x0; x < x1; ++x) {
        const float dx = static_cast<float>(x) + 0.5f - ob.cx;
        bool inside;
        switch (ob.shape) {
          case SyntheticShape::kCircle:
            inside = dx * dx + py * py <= r2;
            break;
          case SyntheticShape::kSquare:
            inside = std::fabs(dx) <= ob.half;
            break;
          default:
            inside = std::fabs(dx) <= (py + ob.half) * 0.5f;
            break;  // apex on top
        }
        if (inside) std::memcpy(row + x * 3, ob.rgb, 3);
      }
    }
    Box b = ClipBox({ob.cx - ob.half, ob.cy - ob.half, ob.cx + ob.half, ob.cy + ob.half},
                    static_cast<float>(w), static_cast<float>(h));
    if (b.width() > 0 && b.height() > 0)
      f.truth.push_back({static_cast<int>(ob.shape), b.x1, b.y1, b.x2, b.y2});
  }
  if (o_.occlusion > 0) {
    // A dark vertical bar sweeping back and forth; it hides objects but their truth stays.
    const int bar = std::max(1, static_cast<int>(o_.occlusion * w));
    const uint64_t t = o_.still ? 0 : sequence_;
    const double centre = (Triangle(t, 240) + 1) / 2 * w;
    const int bx0 = std::clamp(static_cast<int>(centre) - bar / 2, 0, w);
    const int bx1 = std::clamp(static_cast<int>(centre) - bar / 2 + bar, 0, w);
    for (int y = 0; y < h; ++y)
      std::memset(px + (static_cast<size_t>(y) * w + bx0) * 3, 45,
                  static_cast<size_t>(bx1 - bx0) * 3);
  }
}

// Two box passes per axis (close to a Gaussian), with edge pixels repeated. Running sums and a
// fixed-point reciprocal instead of a division per value keep it near a millisecond at 320x240.
void SyntheticCamera::Blur(uint8_t* px) {
  const int w = o_.width, h = o_.height, r = o_.blur;
  const uint32_t inv = (65536u + (2 * r + 1) / 2) / (2 * r + 1);  // 1/(2r+1) in 16.16
  auto average = [inv](uint32_t sum) { return static_cast<uint8_t>((sum * inv + 32768u) >> 16); };
  const size_t stride = static_cast<size_t>(w) * 3;
  // Horizontal: each row copied with r repeated pixels on the left and r + 1 on the right.
  line_.resize((static_cast<size_t>(w) + 2 * r + 1) * 3);
  scratch_.resize(static_cast<size_t>(h) * stride);
  sums_.resize(stride);
  for (int pass = 0; pass < 2; ++pass) {
    for (int y = 0; y < h; ++y) {
      uint8_t* row = px + y * stride;
      for (int k = 0; k < r; ++k) std::memcpy(&line_[k * 3], row, 3);
      std::memcpy(&line_[static_cast<size_t>(r) * 3], row, stride);
      for (int k = 0; k <= r; ++k)
        std::memcpy(&line_[(static_cast<size_t>(w) + r + k) * 3], row + stride - 3, 3);
      uint32_t sum[3] = {0, 0, 0};
      for (int k = 0; k <= 2 * r; ++k)
        for (int c = 0; c < 3; ++c) sum[c] += line_[k * 3 + c];
      const uint8_t* add = &line_[static_cast<size_t>(2 * r + 1) * 3];
      const uint8_t* sub = line_.data();
      for (size_t i = 0; i < stride; i += 3) {
        for (int c = 0; c < 3; ++c) {
          row[i + c] = average(sum[c]);
          sum[c] += add[i + c] - sub[i + c];
        }
      }
    }
    // Vertical: running sums of whole rows over a copy of the frame.
    std::memcpy(scratch_.data(), px, static_cast<size_t>(h) * stride);
    auto row_at = [&](int y) { return scratch_.data() + std::clamp(y, 0, h - 1) * stride; };
    std::fill(sums_.begin(), sums_.end(), 0u);
    for (int y = -r; y <= r; ++y) {
      const uint8_t* src = row_at(y);
      for (size_t i = 0; i < stride; ++i) sums_[i] += src[i];
    }
    for (int y = 0; y < h; ++y) {
      uint8_t* out = px + y * stride;
      const uint8_t* add = row_at(y + r + 1);
      const uint8_t* sub = row_at(y - r);
      for (size_t i = 0; i < stride; ++i) {
        out[i] = average(sums_[i]);
        sums_[i] += add[i] - sub[i];
      }
    }
  }
}

// Global gain through a 256-entry table, then noise read from the precomputed table at a
// random offset: per-pixel Gaussian draws would cost several milliseconds a frame.
void SyntheticCamera::ApplyLightingAndNoise(uint8_t* px) {
  uint8_t lut[256];
  double gain = 1.0;
  if (o_.lighting > 0) {
    if (Uniform(effects_rng_) < kLightingJumpChance)
      jump_gain_ = 1.0 + o_.lighting * Uniform(effects_rng_, -1, 1);
    gain = jump_gain_ * (1.0 + 0.5 * o_.lighting * Triangle(sequence_, kLightingPeriod));
  }
  for (int v = 0; v < 256; ++v) lut[v] = Clamp8(static_cast<int>(std::lround(v * gain)));
  const size_t size = static_cast<size_t>(o_.width) * o_.height * 3;
  if (noise_table_.empty()) {
    for (size_t i = 0; i < size; ++i) px[i] = lut[px[i]];
    return;
  }
  const size_t offset = NextU64(effects_rng_);
  for (size_t i = 0; i < size; ++i)
    px[i] = Clamp8(lut[px[i]] + noise_table_[(offset + i) & (kNoiseTableSize - 1)]);
}

Expected<bool> SyntheticCamera::Next(Frame& f) {
  if (o_.frames != 0 && sequence_ >= o_.frames) return false;
  if (o_.realtime) {
    const auto now = std::chrono::steady_clock::now();
    if (sequence_ == 0) start_ = now;
    std::this_thread::sleep_until(
        start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                     std::chrono::duration<double>(static_cast<double>(sequence_) / o_.fps)));
  }
  if (sequence_ > 0 && o_.scene_frames != 0 && sequence_ % o_.scene_frames == 0)
    NewScene();
  else if (sequence_ > 0)
    Move();

  f.kind = Frame::Kind::kImage;
  f.sequence = sequence_;
  f.origin = "synthetic";
  f.width = o_.width;
  f.height = o_.height;
  f.format = io::PixelFormat::kRgb;
  f.pixels.resize(static_cast<size_t>(o_.width) * o_.height * 3);
  f.samples.clear();
  f.rows = f.channels = 0;
  f.truth.clear();

  if (o_.glitch > 0 && Uniform(effects_rng_) < o_.glitch) {
    // A dead frame: nothing is visible, so nothing is listed.
    const bool black = NextU64(effects_rng_) & 1;
    std::fill(f.pixels.begin(), f.pixels.end(),
              black ? uint8_t{0} : static_cast<uint8_t>(Uniform(effects_rng_, 16, 240)));
  } else {
    Render(f);
    if (o_.blur > 0) Blur(f.pixels.data());
    if (o_.lighting > 0 || o_.noise > 0) ApplyLightingAndNoise(f.pixels.data());
  }
  f.capture_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now().time_since_epoch())
                     .count();
  ++sequence_;
  return true;
}

std::string SyntheticCamera::Describe() const {
  std::string s = "synthetic camera " + std::to_string(o_.width) + "x" + std::to_string(o_.height);
  if (o_.realtime) {
    char fps[32];
    std::snprintf(fps, sizeof fps, " @ %g fps", o_.fps);
    s += fps;
  } else {
    s += ", as fast as consumed";
  }
  std::string effects;
  auto add = [&](bool on, const char* name) {
    if (on) effects += (effects.empty() ? "" : ", ") + std::string(name);
  };
  add(o_.lighting > 0, "lighting");
  add(o_.noise > 0, "noise");
  add(o_.blur > 0, "blur");
  add(o_.occlusion > 0, "occlusion");
  add(o_.still, "still");
  add(o_.glitch > 0, "glitch");
  if (!effects.empty()) s += " (" + effects + ")";
  return s;
}

Expected<std::unique_ptr<Source>> MakeSyntheticCamera(const json& options,
                                                      const std::string& /*base_dir*/) {
  Expected<SyntheticCameraOptions> o = ParseSyntheticCameraOptions(options);
  if (!o) return o.error();
  return std::unique_ptr<Source>(new SyntheticCamera(*o));
}

}  // namespace outpost::pipeline
