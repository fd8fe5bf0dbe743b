// Feeds a user's file to a model input, whatever kind of file it is: a .npy array, a raw
// little-endian .bin dump, or an image decoded and preprocessed with the input's spec.
#pragma once

#include <string>

#include "common/expected.h"
#include "io/session.h"

namespace outpost::io {

enum class InputFileKind { kNpy, kRaw, kImage };

struct LoadedInput {
  InputFileKind kind;
  std::string description;  // e.g. "image 640x480 rgb -> 28x28 gray NCHW, ..." for logs
};

// Loads `path` into input `input` of `session`. The kind is recognized from the content (.npy
// magic, image headers) and the ".bin" extension. Errors name the file and, for a shape
// mismatch, the expected and actual shapes.
Expected<LoadedInput> LoadInputFile(Session& session, int input, const std::string& path);

}  // namespace outpost::io
