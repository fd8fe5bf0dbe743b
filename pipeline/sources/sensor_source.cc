// The "sensor" source: numeric CSV rows (a file, or stdin for a live feed) cut into windows.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "pipeline/config/json_options.h"
#include "pipeline/config/pipeline_config.h"
#include "pipeline/sources/source_makers.h"
#include "pipeline/sources/source_clock.h"

namespace outpost::pipeline {
namespace {

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    std::string_view f = line.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    fields.push_back(f);
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

bool ParseNumber(std::string_view s, float& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

struct SensorOptions {
  std::string path;  // "-" is stdin
  std::string header = "auto";
  std::vector<nlohmann::json> columns;
  int window = 1;
  int hop = 0;  // 0: same as window
  double rate_hz = 0;
};

class SensorSource final : public Source {
 public:
  explicit SensorSource(SensorOptions o) : o_(std::move(o)) {
    if (o_.hop <= 0) o_.hop = o_.window;
  }

  Expected<Unit> Open() {
    if (o_.path == "-") {
      in_ = &std::cin;
    } else {
      file_.open(o_.path);
      if (!file_) return Error(o_.path + ": cannot open");
      in_ = &file_;
    }
    if (o_.rate_hz > 0) pacer_ = FramePacer(fps());
    return Unit{};
  }

  Expected<bool> Next(Frame& frame) override {
    while (static_cast<int>(rows_.size()) < o_.window) {
      Expected<bool> row = ReadRow();
      if (!row) return row.error();
      if (!*row) return false;
    }
    if (o_.rate_hz > 0) pacer_.Wait();
    StampFrame(frame, Frame::Kind::kSamples, sequence_++, Name());
    frame.rows = o_.window;
    frame.channels = static_cast<int>(selected_.size());
    frame.samples.clear();
    for (int r = 0; r < o_.window; ++r)
      frame.samples.insert(frame.samples.end(), rows_[r].begin(), rows_[r].end());
    // Slide by `hop` rows; a hop longer than the window skips the rows in between.
    const size_t drop = std::min(rows_.size(), static_cast<size_t>(o_.hop));
    rows_.erase(rows_.begin(), rows_.begin() + static_cast<ptrdiff_t>(drop));
    skip_ = o_.hop - static_cast<int>(drop);
    return true;
  }

  std::string Describe() const override {
    std::string d = "sensor " + Name() + " (window " + std::to_string(o_.window) + ", hop " +
                    std::to_string(o_.hop);
    if (o_.rate_hz > 0) d += ", " + std::to_string(o_.rate_hz) + " rows/s";
    return d + ")";
  }

  double fps() const override { return o_.rate_hz > 0 ? o_.rate_hz / o_.hop : 0.0; }

 private:
  std::string Name() const { return o_.path == "-" ? "stdin" : o_.path; }
  std::string Where() const { return Name() + ":" + std::to_string(line_number_); }

  // Reads lines until one numeric row is buffered (true), the input ends (false) or a line is
  // bad (an Error naming it; the next call goes on with the following line).
  Expected<bool> ReadRow() {
    if (unusable_) return false;
    std::string line;
    while (std::getline(*in_, line)) {
      ++line_number_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      const std::vector<std::string_view> fields = SplitFields(line);
      if (!configured_) {
        Expected<bool> header = Configure(fields);
        if (!header) {
          unusable_ = true;  // the column selection cannot be met by any later line
          return header.error();
        }
        if (*header) continue;
      }
      if (static_cast<int>(fields.size()) != num_fields_)
        return Error(Where() + ": " + std::to_string(fields.size()) + " columns, expected " +
                     std::to_string(num_fields_));
      std::vector<float> values(selected_.size());
      for (size_t k = 0; k < selected_.size(); ++k)
        if (!ParseNumber(fields[selected_[k]], values[k]))
          return Error(Where() + ": column " + std::to_string(selected_[k] + 1) + " ('" +
                       std::string(fields[selected_[k]]) + "') is not a finite number");
      if (skip_ > 0) {
        --skip_;
        continue;
      }
      rows_.push_back(std::move(values));
      return true;
    }
    return false;
  }

  // Decides from the first line whether it is a header and which columns are selected;
  // true when the line was a header.
  Expected<bool> Configure(const std::vector<std::string_view>& fields) {
    bool numeric = true;
    float unused;
    for (std::string_view f : fields) numeric = numeric && ParseNumber(f, unused);
    const bool is_header = o_.header == "auto" ? !numeric : o_.header == "yes";
    if (is_header) names_.assign(fields.begin(), fields.end());
    num_fields_ = static_cast<int>(fields.size());
    if (o_.columns.empty()) {
      for (int k = 0; k < num_fields_; ++k) selected_.push_back(k);
    }
    for (const nlohmann::json& c : o_.columns) {
      if (c.is_number_integer()) {
        const int k = c.get<int>();
        if (k < 0 || k >= num_fields_)
          return Error(Name() + ": column index " + std::to_string(k) + " is out of range (" +
                       std::to_string(num_fields_) + " columns)");
        selected_.push_back(k);
        continue;
      }
      const std::string name = c.is_string() ? c.get<std::string>() : c.dump();
      const auto it = std::find(names_.begin(), names_.end(), name);
      if (it == names_.end())
        return Error(Name() + ": no column named '" + name + "'" +
                     (names_.empty() ? " (the file has no header row)" : ""));
      selected_.push_back(static_cast<int>(it - names_.begin()));
    }
    configured_ = true;
    return is_header;
  }

  SensorOptions o_;
  std::ifstream file_;
  std::istream* in_ = nullptr;
  bool configured_ = false;
  bool unusable_ = false;
  int num_fields_ = 0;
  std::vector<std::string> names_;
  std::vector<int> selected_;
  std::vector<std::vector<float>> rows_;
  int skip_ = 0;
  int line_number_ = 0;
  uint64_t sequence_ = 0;
  FramePacer pacer_{1.0};
};

}  // namespace

Expected<std::unique_ptr<Source>> MakeSensorSource(const nlohmann::json& options,
                                                   const std::string& base_dir) {
  return Capture([&]() -> std::unique_ptr<Source> {
    constexpr std::string_view where = "sensor source";
    CheckKeys(options, where,
                    {"type", "path", "header", "columns", "window", "hop", "rate_hz"});
    SensorOptions o;
    o.path = ReadOr<std::string>(options, where, "path", "");
    if (o.path.empty()) throw Error("sensor source: option 'path' is required (\"-\" for stdin)");
    if (o.path != "-") o.path = ResolvePath(base_dir, o.path);
    if (options.contains("header")) {
      const nlohmann::json& h = options.at("header");
      if (h.is_boolean())
        o.header = h.get<bool>() ? "yes" : "no";
      else if (!(h.is_string() && h.get<std::string>() == "auto"))
        throw Error("sensor source: option 'header' must be true, false or \"auto\"");
    }
    o.columns = ReadOr(options, where, "columns", std::vector<nlohmann::json>{});
    o.window = ReadOr(options, where, "window", 1);
    o.hop = ReadOr(options, where, "hop", 0);
    o.rate_hz = ReadOr(options, where, "rate_hz", 0.0);
    if (o.window < 1) throw Error("sensor source: option 'window' must be at least 1");
    if (o.hop < 0) throw Error("sensor source: option 'hop' must not be negative");
    if (!(o.rate_hz >= 0) || !std::isfinite(o.rate_hz))
      throw Error("sensor source: option 'rate_hz' must be a non-negative number");
    auto source = std::make_unique<SensorSource>(std::move(o));
    Expected<Unit> opened = source->Open();
    if (!opened) throw opened.error();
    return source;
  });
}

}  // namespace outpost::pipeline
