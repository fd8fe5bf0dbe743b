// Status codes and Result<T> for the runtime core.
//
// The core builds without exceptions or RTTI (docs/portability.md), so every fallible call
// returns a Status or a Result<T>. Host code turns these into rich errors at its own edge.
#pragma once

#include <stdint.h>

#include <new>
#include <utility>

namespace outpost {

enum class Status : uint8_t {
  kOk = 0,
  kInvalidArgument,  // the caller passed something wrong (index, pointer, size)
  kCorruptModel,     // the model bytes fail verification
  kUnsupported,      // valid model, but an op/dtype/version this runtime does not have
  kArenaTooSmall,    // the caller's arena is smaller than the model needs
  kShapeMismatch,    // tensor shapes disagree with each other or with the op
  kNotReady,         // called out of order (e.g. Invoke before a successful Init)
  kInternal,
};

const char* StatusName(Status s);

// Holds either a value or a non-OK Status. No heap, no exceptions.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& v) : status_(Status::kOk), has_value_(true) { new (&storage_) T(v); }
  Result(T&& v) : status_(Status::kOk), has_value_(true) { new (&storage_) T(std::move(v)); }
  Result(Status s) : status_(s), has_value_(false) {}
  Result(const Result& o) : status_(o.status_), has_value_(o.has_value_) {
    if (has_value_) new (&storage_) T(*o.ptr());
  }
  Result& operator=(const Result&) = delete;
  ~Result() {
    if (has_value_) ptr()->~T();
  }

  bool ok() const { return status_ == Status::kOk; }
  Status status() const { return status_; }
  T& value() { return *ptr(); }
  const T& value() const { return *ptr(); }
  T* operator->() { return ptr(); }
  T& operator*() { return *ptr(); }

 private:
  T* ptr() { return reinterpret_cast<T*>(&storage_); }
  const T* ptr() const { return reinterpret_cast<const T*>(&storage_); }
  Status status_;
  bool has_value_;
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace outpost

#define OUTPOST_RETURN_IF_ERROR(expr)                       \
  do {                                                      \
    const ::outpost::Status outpost_status_ = (expr);       \
    if (outpost_status_ != ::outpost::Status::kOk) return outpost_status_; \
  } while (0)
