// An image classification data set laid out as one sub-folder of images per class:
//   DIR/<class name>/<any name>.{png,jpg,jpeg,bmp,gif,tga,psd,hdr,pgm,ppm,pnm}
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "common/expected.h"

namespace outpost::io {

struct ImageFolder {
  // Class k's name. When every folder name is one of the model's labels, these are the model's
  // labels (so class k is output k); otherwise the folder names, sorted.
  std::vector<std::string> classes;
  bool classes_from_model_labels = false;
  struct Sample {
    std::string path;
    int label = 0;
  };
  std::vector<Sample> samples;  // sorted by class, then file name
};

// Whether `path` has one of the image extensions above (case-insensitive).
bool HasImageExtension(const std::filesystem::path& path);

// Lists `dir`. Hidden entries and files without an image extension are skipped. Errors when
// the folder is missing, has no class sub-folders or no images.
Expected<ImageFolder> ScanImageFolder(const std::string& dir,
                                      std::span<const std::string> model_labels);

}  // namespace outpost::io
