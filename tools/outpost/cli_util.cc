#include "tools/outpost/cli_util.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace outpost::cli {
namespace {

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

// Keeps every message on one line, whatever the libraries put in it.
std::string OneLine(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      if (!out.empty() && out.back() != ' ') out += "; ";
    } else if (c != '\r') {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

std::string Seconds(std::chrono::steady_clock::duration d) {
  return FormatFixed(std::chrono::duration<double>(d).count(), 1) + " s";
}

}  // namespace

void PrintError(const std::string& message) {
  std::cout.flush();
  std::cerr << "outpost: error: " << OneLine(message) << std::endl;
}

void PrintWarning(const std::string& message) {
  std::cerr << "outpost: warning: " << OneLine(message) << std::endl;
}

std::string FormatBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  if (u == 0) return std::to_string(bytes) + " B";
  return FormatFixed(v, v < 10 ? 2 : 1) + " " + kUnits[u];
}

std::string FormatBytesExact(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  return FormatBytes(bytes) + " (" + std::to_string(bytes) + " B)";
}

std::string FormatCount(uint64_t n) {
  static const char* kUnits[] = {"", " K", " M", " G", " T"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000.0 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  if (u == 0) return std::to_string(n);
  return FormatFixed(v, v < 10 ? 2 : 1) + kUnits[u];
}

std::string FormatFixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string FormatFloat(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::vector<std::string> SplitList(const std::string& text, const std::string& what) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = Trim(text.substr(start, comma - start));
    if (item.empty()) throw UsageError(what + ": empty item in '" + text + "'");
    out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<float> ParseFloatList(const std::string& text, const std::string& what) {
  std::vector<float> out;
  for (const std::string& item : SplitList(text, what)) {
    char* end = nullptr;
    errno = 0;
    const float v = std::strtof(item.c_str(), &end);
    if (end == item.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
      throw UsageError(what + ": '" + item + "' is not a number");
    out.push_back(v);
  }
  return out;
}

std::vector<int64_t> ParseIntList(const std::string& text, const std::string& what) {
  std::vector<int64_t> out;
  for (const std::string& item : SplitList(text, what)) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (end == item.c_str() || *end != '\0' || errno == ERANGE)
      throw UsageError(what + ": '" + item + "' is not an integer");
    out.push_back(v);
  }
  return out;
}

Table::Table(std::vector<std::string> headers, std::vector<bool> right)
    : headers_(std::move(headers)), right_(std::move(right)) {
  right_.resize(headers_.size(), false);
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out, const std::string& indent) const {
  std::vector<size_t> width(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) {
    width[c] = headers_[c].size();
    for (const auto& r : rows_) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s = indent;
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      s += right_[c] ? pad + cells[c] : cells[c] + (c + 1 < cells.size() ? pad : "");
      if (c + 1 < cells.size()) s += "  ";
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << '\n';
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, int64_t total, std::chrono::milliseconds quiet_for)
    : label_(std::move(label)),
      total_(total),
      tty_(StderrIsTerminal()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      quiet_for_(quiet_for) {}

Progress::~Progress() {
  // Leave the terminal tidy when an error unwinds past us.
  if (tty_ && shown_ && !finished_) std::cerr << "\r\033[K" << std::flush;
}

void Progress::Update(int64_t done) {
  last_done_ = done;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < quiet_for_) return;
  const auto period = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (shown_ && now - last_draw_ < period) return;
  if (!shown_ && !tty_ && now - start_ < std::chrono::milliseconds(2000)) return;
  last_draw_ = now;
  Draw(done, false);
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!shown_) return;
  if (tty_) {
    std::cerr << "\r\033[K" << std::flush;
  } else {
    Draw(last_done_, true);
  }
}

void Progress::Draw(int64_t done, bool final_line) {
  shown_ = true;
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1;
  const std::string count = std::to_string(done) + "/" + std::to_string(total_);
  const std::string elapsed = Seconds(std::chrono::steady_clock::now() - start_);
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    std::cerr << "\r\033[K" << label_ << " [" << bar << "] " << FormatFixed(frac * 100, 0) << "% "
              << count << " " << elapsed << std::flush;
  } else {
    std::cerr << label_ << ": " << count << " (" << FormatFixed(frac * 100, 0) << "%, " << elapsed
              << (final_line ? ", done" : "") << ")" << std::endl;
  }
}

const char kThreadsHelp[] =
    "Threads for the kernels, the calling thread included (default 0: one per physical core)";

void CheckThreads(int threads) {
  if (threads < 0) throw UsageError("--threads must be at least 1 (or 0 for one per core)");
}

}  // namespace outpost::cli
