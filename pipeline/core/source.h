// Where frames come from: files, a camera, a synthetic scene, a sensor stream, audio.
//
// A source is driven by one capture thread. A live source (camera, synthetic camera at a set
// fps, stdin) produces frames on its own clock whether or not the pipeline keeps up, so the
// runner drops frames when behind; a file source is read as fast as the pipeline consumes it.
#pragma once

#include <memory>
#include <string>

#include "common/expected.h"
#include "pipeline/core/frame.h"

namespace outpost::pipeline {

class Source {
 public:
  virtual ~Source() = default;

  // Fills `frame` (reusing its buffers) and returns true, or returns false at the end of the
  // stream. A live source blocks until its next frame is due. An unreadable item (a corrupt
  // image in a folder) is an Error naming it; the runner counts it and calls Next again, so a
  // source must be able to continue after returning an Error.
  virtual Expected<bool> Next(Frame& frame) = 0;

  // "synthetic camera 320x240 @ 30 fps", "folder data/ (120 images)".
  virtual std::string Describe() const = 0;

  // Frames per second the source produces on its own clock; 0 for files read on demand.
  virtual double fps() const { return 0.0; }
  // Whether every frame carries its ground truth (Frame::truth): the runner then scores a
  // detector on the run (mAP in the report).
  virtual bool has_truth() const { return false; }
  bool live() const { return fps() > 0.0; }
};

}  // namespace outpost::pipeline
