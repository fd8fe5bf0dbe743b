#include "io/npy.h"

#include <cctype>
#include <cstring>
#include <limits>
#include <optional>

#include "io/mapped_file.h"

namespace outpost::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
constexpr int64_t kMaxElements = int64_t{1} << 40;

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// A parser for the one Python literal .npy headers contain: a dict with string keys whose
// values are strings, True/False, or tuples of integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : s_(text), name_(name) {}

  NpyHeader Parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    Expect('{');
    while (true) {
      SkipSpace();
      if (Peek() == '}') break;
      const std::string key = String();
      Expect(':');
      SkipSpace();
      if (key == "descr") {
        if (Peek() == '[') Fail("structured (record) dtypes are not supported");
        h.descr = String();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = Bool();
        have_order = true;
      } else if (key == "shape") {
        h.shape = Tuple();
        have_shape = true;
      } else {
        Fail("unexpected header key '" + key + "'");
      }
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      SkipSpace();
      if (Peek() != '}') Fail("malformed header dictionary");
    }
    if (!have_descr || !have_order || !have_shape)
      Fail("header lacks one of 'descr', 'fortran_order', 'shape'");
    return h;
  }

 private:
  [[noreturn]] void Fail(const std::string& why) const { throw Error(name_ + ": " + why); }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void SkipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void Expect(char c) {
    SkipSpace();
    if (Peek() != c) Fail(std::string("malformed header: expected '") + c + "'");
    ++pos_;
  }
  std::string String() {
    SkipSpace();
    const char q = Peek();
    if (q != '\'' && q != '"') Fail("malformed header: expected a string");
    const size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos) Fail("malformed header: unterminated string");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool Bool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    Fail("malformed header: expected True or False");
  }
  std::vector<int64_t> Tuple() {
    std::vector<int64_t> dims;
    Expect('(');
    while (true) {
      SkipSpace();
      if (Peek() == ')') {
        ++pos_;
        return dims;
      }
      if (!std::isdigit(static_cast<unsigned char>(Peek())))
        Fail("malformed header: shape must be a tuple of non-negative integers");
      int64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(Peek()))) {
        v = v * 10 + (s_[pos_++] - '0');
        if (v > kMaxElements) Fail("shape dimension too large");
      }
      // Python 2 wrote long integers as 3L.
      if (Peek() == 'L') ++pos_;
      dims.push_back(v);
      SkipSpace();
      if (Peek() == ',') ++pos_;
    }
  }

  std::string_view s_;
  const std::string& name_;
  size_t pos_ = 0;
};

struct DescrInfo {
  ElementType type;
  const char* descr;  // canonical little-endian form used when writing
};

constexpr DescrInfo kDescrs[] = {
    {ElementType::kFloat32, "<f4"}, {ElementType::kFloat64, "<f8"}, {ElementType::kInt8, "|i1"},
    {ElementType::kUint8, "|u1"},   {ElementType::kInt16, "<i2"},   {ElementType::kInt32, "<i4"},
    {ElementType::kInt64, "<i8"},   {ElementType::kBool, "|b1"},
};

ElementType ParseDescr(const std::string& descr, const std::string& name) {
  if (descr.size() < 2) throw Error(name + ": unsupported dtype '" + descr + "'");
  const char order = descr[0];
  const std::string code = descr.substr(1);
  std::optional<ElementType> type;
  for (const DescrInfo& d : kDescrs)
    if (code == std::string(d.descr + 1)) type = d.type;
  if (!type)
    throw Error(name + ": unsupported dtype '" + descr +
                "' (supported: float32, float64, int8, uint8, int16, int32, int64, bool)");
  // Byte order only matters for multi-byte elements.
  if (order == '>' && ElementSize(*type) > 1)
    throw Error(name + ": big-endian arrays are not supported (dtype '" + descr +
                "'); re-save with arr.astype(arr.dtype.newbyteorder('<'))");
  if (order != '<' && order != '|' && order != '=' && order != '>')
    throw Error(name + ": unsupported dtype '" + descr + "'");
  return *type;
}

uint16_t ReadLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t ReadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

const char* DescrFor(ElementType t) {
  for (const DescrInfo& d : kDescrs)
    if (d.type == t) return d.descr;
  return "<f4";
}

}  // namespace

bool IsNpy(std::span<const uint8_t> bytes) {
  return bytes.size() >= kMagicBytes && std::memcmp(bytes.data(), kMagic, kMagicBytes) == 0;
}

Expected<HostTensor> DecodeNpy(std::span<const uint8_t> bytes, const std::string& name,
                               const NpyReadOptions& options) {
  return Capture([&]() -> HostTensor {
    if (!IsNpy(bytes)) throw Error(name + ": not a .npy file (bad magic)");
    if (bytes.size() < 10) throw Error(name + ": truncated .npy header");
    const uint8_t major = bytes[6];
    size_t header_len = 0, prefix = 0;
    if (major == 1) {
      header_len = ReadLe16(bytes.data() + 8);
      prefix = 10;
    } else if (major == 2 || major == 3) {
      if (bytes.size() < 12) throw Error(name + ": truncated .npy header");
      header_len = ReadLe32(bytes.data() + 8);
      prefix = 12;
    } else {
      throw Error(name + ": unsupported .npy format version " + std::to_string(major) + "." +
                  std::to_string(bytes[7]));
    }
    if (header_len > bytes.size() - prefix) throw Error(name + ": truncated .npy header");
    const std::string_view text(reinterpret_cast<const char*>(bytes.data() + prefix), header_len);
    const NpyHeader h = HeaderParser(text, name).Parse();
    if (h.fortran_order)
      throw Error(name +
                  ": Fortran-order arrays are not supported; re-save with "
                  "np.save(path, np.ascontiguousarray(arr))");
    HostTensor t;
    t.type = ParseDescr(h.descr, name);
    t.shape = h.shape;
    int64_t n = 1;
    for (int64_t d : t.shape) {
      if (d != 0 && n > kMaxElements / d) throw Error(name + ": array too large");
      n *= d;
    }
    const size_t want = static_cast<size_t>(n) * ElementSize(t.type);
    const size_t have = bytes.size() - prefix - header_len;
    if (have < want)
      throw Error(name + ": truncated: shape " + ShapeString(t.shape) + " " +
                  ElementTypeName(t.type) + " needs " + std::to_string(want) +
                  " data bytes, file has " + std::to_string(have));
    if (have > want)
      throw Error(name + ": " + std::to_string(have - want) +
                  " unexpected bytes after the array data");
    const uint8_t* data = bytes.data() + prefix + header_len;
    t.bytes.assign(data, data + want);
    if (options.float64_to_float32 && t.type == ElementType::kFloat64) return ToFloat32(t);
    return t;
  });
}

Expected<HostTensor> ReadNpy(const std::string& path, const NpyReadOptions& options) {
  Expected<MappedFile> f = MappedFile::Open(path);
  if (!f) return f.error();
  return DecodeNpy(f->bytes(), path, options);
}

std::vector<uint8_t> EncodeNpy(const HostTensor& t) {
  std::string dict =
      "{'descr': '" + std::string(DescrFor(t.type)) + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    dict += std::to_string(t.shape[i]);
    dict += (t.shape.size() == 1 || i + 1 < t.shape.size()) ? ", " : "";
  }
  if (t.shape.size() == 1) dict.pop_back();  // "(5,)" like Python
  dict += "), }";
  // Pad with spaces and a final newline so that the data starts on a 64-byte boundary.
  auto padded = [&](size_t prefix) {
    std::string h = dict;
    const size_t total = prefix + h.size() + 1;
    h.append((64 - total % 64) % 64, ' ');
    h += '\n';
    return h;
  };
  uint8_t major = 1;
  size_t prefix = 10;
  std::string header = padded(prefix);
  if (header.size() > std::numeric_limits<uint16_t>::max()) {
    major = 2;
    prefix = 12;
    header = padded(prefix);
  }
  // Sized once and filled with memcpy: simpler than a chain of inserts.
  std::vector<uint8_t> out(prefix + header.size() + t.bytes.size());
  uint8_t* p = out.data();
  std::memcpy(p, kMagic, kMagicBytes);
  p[6] = major;
  p[7] = 0;
  const uint32_t len = static_cast<uint32_t>(header.size());
  for (size_t k = 0; k + 8 < prefix; ++k) p[8 + k] = static_cast<uint8_t>(len >> (8 * k));
  std::memcpy(p + prefix, header.data(), header.size());
  if (!t.bytes.empty()) std::memcpy(p + prefix + header.size(), t.bytes.data(), t.bytes.size());
  return out;
}

Expected<Unit> WriteNpy(const std::string& path, const HostTensor& tensor) {
  return WriteFileAtomic(path, EncodeNpy(tensor));
}

Expected<HostTensor> ReadRawTensor(const std::string& path, ElementType type,
                                   std::vector<int64_t> shape) {
  Expected<MappedFile> f = MappedFile::Open(path);
  if (!f) return f.error();
  HostTensor t;
  t.type = type;
  t.shape = std::move(shape);
  const size_t want = static_cast<size_t>(t.num_elements()) * ElementSize(type);
  if (f->size() != want)
    return Error(path + ": raw file is " + std::to_string(f->size()) + " bytes, but " +
                 ShapeString(t.shape) + " " + ElementTypeName(type) + " needs " +
                 std::to_string(want) + " (little-endian, no header)");
  t.bytes.assign(f->data(), f->data() + want);
  return t;
}

}  // namespace outpost::io
