#include "pipeline/sources/y4m_reader.h"

#include <charconv>
#include <fstream>

#include "io/yuv.h"

namespace outpost::pipeline {
namespace {

constexpr std::string_view kMagic = "YUV4MPEG2";
// Larger than any real header or FRAME line; a missing newline fails within this many bytes.
constexpr size_t kMaxLine = 4096;
// 8K video; bigger dimensions are taken for corruption rather than allocated.
constexpr int kMaxSide = 8192;

bool ParseInt(std::string_view s, int& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Reads up to and excluding '\n'; false when the stream ends first or the line is too long.
bool ReadLine(std::istream& in, std::string& line) {
  line.clear();
  char c;
  while (in.get(c)) {
    if (c == '\n') return true;
    if (line.size() >= kMaxLine) return false;
    line.push_back(c);
  }
  return false;
}

}  // namespace

size_t Y4mHeader::frame_bytes() const {
  const size_t luma = static_cast<size_t>(width) * height;
  switch (chroma) {
    case Chroma::k420:
      return luma + 2 * (static_cast<size_t>(width + 1) / 2) * ((height + 1) / 2);
    case Chroma::k444:
      return 3 * luma;
    case Chroma::kMono:
      return luma;
  }
  return luma;
}

Expected<Y4mHeader> ParseY4mHeader(std::string_view line, const std::string& name) {
  if (line.substr(0, kMagic.size()) != kMagic)
    return Error(name + ": not a Y4M file (no YUV4MPEG2 signature)");
  Y4mHeader h;
  bool has_w = false, has_h = false;
  size_t pos = kMagic.size();
  while (pos < line.size()) {
    if (line[pos] == ' ') {
      ++pos;
      continue;
    }
    const size_t end = std::min(line.find(' ', pos), line.size());
    const std::string_view token = line.substr(pos, end - pos);
    pos = end;
    const std::string_view value = token.substr(1);
    const auto bad = [&] {
      return Error(name + ": bad Y4M header parameter '" + std::string(token) + "'");
    };
    switch (token[0]) {
      case 'W':
        if (!ParseInt(value, h.width) || h.width <= 0 || h.width > kMaxSide) return bad();
        has_w = true;
        break;
      case 'H':
        if (!ParseInt(value, h.height) || h.height <= 0 || h.height > kMaxSide) return bad();
        has_h = true;
        break;
      case 'F': {
        const size_t colon = value.find(':');
        if (colon == std::string_view::npos || !ParseInt(value.substr(0, colon), h.fps_num) ||
            !ParseInt(value.substr(colon + 1), h.fps_den) || h.fps_num < 0 || h.fps_den <= 0)
          return bad();
        break;
      }
      case 'C':
        if (value == "420jpeg" || value == "420paldv" || value == "420" || value == "420mpeg2")
          h.chroma = Y4mHeader::Chroma::k420;
        else if (value == "444")
          h.chroma = Y4mHeader::Chroma::k444;
        else if (value == "mono")
          h.chroma = Y4mHeader::Chroma::kMono;
        else
          return Error(name + ": Y4M colour space '" + std::string(value) +
                       "' is not supported (420jpeg, 420paldv, 420, 420mpeg2, 444, mono are)");
        break;
      case 'I':
      case 'A':
      case 'X':
        break;
      default:
        return bad();
    }
  }
  if (!has_w || !has_h) return Error(name + ": Y4M header lacks the W or H parameter");
  return h;
}

Y4mReader::Y4mReader(std::unique_ptr<std::istream> stream, std::string name, Y4mHeader header,
                     std::streampos data_start)
    : stream_(std::move(stream)),
      name_(std::move(name)),
      header_(header),
      data_start_(data_start) {}

Expected<std::unique_ptr<Y4mReader>> Y4mReader::Open(std::unique_ptr<std::istream> stream,
                                                     const std::string& name) {
  std::string line;
  if (!ReadLine(*stream, line)) {
    if (line.substr(0, kMagic.size()) != kMagic)
      return Error(name + ": not a Y4M file (no YUV4MPEG2 signature)");
    return Error(name + ": the Y4M header is truncated or longer than " + std::to_string(kMaxLine) +
                 " bytes");
  }
  Expected<Y4mHeader> h = ParseY4mHeader(line, name);
  if (!h) return h.error();
  const std::streampos start = stream->tellg();
  return std::unique_ptr<Y4mReader>(new Y4mReader(std::move(stream), name, *h, start));
}

Expected<std::unique_ptr<Y4mReader>> Y4mReader::OpenFile(const std::string& path) {
  auto f = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*f) return Error(path + ": cannot open");
  return Open(std::move(f), path);
}

Expected<bool> Y4mReader::ReadFrame(std::vector<uint8_t>& rgb) {
  if (ended_) return false;
  std::string line;
  const std::string where = name_ + ": frame " + std::to_string(frame_index_);
  if (!ReadLine(*stream_, line)) {
    ended_ = true;
    if (line.empty() && stream_->eof()) return false;
    return Error(where + ": truncated FRAME line");
  }
  if (line.substr(0, 5) != "FRAME" || (line.size() > 5 && line[5] != ' ')) {
    ended_ = true;
    return Error(where + ": expected a FRAME line");
  }
  const size_t bytes = header_.frame_bytes();
  planes_.resize(bytes);
  stream_->read(reinterpret_cast<char*>(planes_.data()), static_cast<std::streamsize>(bytes));
  const size_t got = static_cast<size_t>(stream_->gcount());
  if (got != bytes) {
    ended_ = true;
    return Error(where + " is truncated (" + std::to_string(got) + " of " + std::to_string(bytes) +
                 " bytes)");
  }
  const int w = header_.width, h = header_.height;
  rgb.resize(static_cast<size_t>(w) * h * 3);
  const uint8_t* y = planes_.data();
  const size_t luma = static_cast<size_t>(w) * h;
  switch (header_.chroma) {
    case Y4mHeader::Chroma::k420: {
      const size_t chroma = (static_cast<size_t>(w + 1) / 2) * ((h + 1) / 2);
      io::Yuv420ToRgb(y, y + luma, y + luma + chroma, w, h, rgb.data());
      break;
    }
    case Y4mHeader::Chroma::k444:
      io::Yuv444ToRgb(y, y + luma, y + 2 * luma, w, h, rgb.data());
      break;
    case Y4mHeader::Chroma::kMono: {
      // Gray in limited range: the same luma expansion with neutral chroma.
      neutral_.assign(luma, 128);
      io::Yuv444ToRgb(y, neutral_.data(), neutral_.data(), w, h, rgb.data());
      break;
    }
  }
  ++frame_index_;
  return true;
}

Expected<Unit> Y4mReader::Rewind() {
  stream_->clear();
  stream_->seekg(data_start_);
  if (!*stream_) return Error(name_ + ": cannot seek back to the first frame");
  frame_index_ = 0;
  ended_ = false;
  return Unit{};
}

}  // namespace outpost::pipeline
