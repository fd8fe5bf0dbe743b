// Host-side results: a value or an Error with a message meant for the user.
//
// Host libraries (compiler, io, package, ...) return Expected<T> from their public functions.
// Internally they may throw outpost::Error and convert at their API boundary with Capture();
// only the CLI turns an Error into a line on stderr and an exit code.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace outpost {

// What kind of failure an Error is, for callers that answer differently (the fleet server maps
// kConflict to 409 and kRefused to 422). Most errors are kFailed; the kind survives the copy into
// an Expected because it lives in the base class.
enum class ErrorKind {
  kFailed,    // the operation could not be done (I/O, storage, a bug)
  kConflict,  // the current state forbids it (already running, already paused); may pass later
  kRefused,   // the request itself cannot be carried out as asked (unknown version, nothing to do)
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorKind kind = ErrorKind::kFailed)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Error error) : v_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() & { return Check(), std::get<T>(v_); }
  T&& value() && { return Check(), std::move(std::get<T>(v_)); }
  const T& value() const& { return Check(), std::get<T>(v_); }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { return std::get<Error>(v_); }
  std::string message() const { return ok() ? std::string() : error().what(); }

 private:
  // Using a failed result is a programming error at the call site: surface it loudly.
  void Check() const {
    if (!ok()) throw std::get<Error>(v_);
  }
  std::variant<T, Error> v_;
};

struct Unit {};

// Runs `f` and converts a thrown Error into a failed Expected.
template <typename F>
auto Capture(F&& f) -> Expected<decltype(f())> {
  try {
    return f();
  } catch (const Error& e) {
    return e;
  }
}

}  // namespace outpost
