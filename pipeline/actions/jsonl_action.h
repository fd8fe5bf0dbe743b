// Events as JSON lines on stdout ("stdout") or appended to a file ("file"), one line per event,
// each written with one system call as soon as it exists (no user-space buffer), so a crash or
// a power cut loses at most the line being written. A failed write (a full disk, a closed
// pipe) is an Error for the runner to count, never a crash.
#pragma once

#include <memory>
#include <string>

#include "common/expected.h"
#include "pipeline/core/action.h"

namespace outpost::pipeline {

class JsonlAction : public Action {
 public:
  static std::unique_ptr<JsonlAction> Stdout();
  // Opens `path` for appending (created when missing).
  static Expected<std::unique_ptr<JsonlAction>> OpenFile(const std::string& path);
  ~JsonlAction() override;

  Expected<Unit> Emit(std::string_view json) override;
  Expected<Unit> Close() override;
  std::string Describe() const override { return name_; }

 private:
  JsonlAction(int fd, bool owned, std::string name)
      : fd_(fd), owned_(owned), name_(std::move(name)) {}

  int fd_;
  bool owned_;
  std::string name_;
};

}  // namespace outpost::pipeline
