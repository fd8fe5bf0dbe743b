#include "io/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

namespace outpost::io {

namespace fs = std::filesystem;

bool HasImageExtension(const fs::path& p) {
  static const std::set<std::string> kExtensions = {".png", ".jpg", ".jpeg", ".bmp",
                                                    ".gif", ".tga", ".psd",  ".hdr",
                                                    ".pgm", ".ppm", ".pnm",  ".pic"};
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return kExtensions.count(ext) > 0;
}

namespace {

bool Hidden(const fs::path& p) { return p.filename().string().starts_with("."); }

}  // namespace

Expected<ImageFolder> ScanImageFolder(const std::string& dir,
                                      std::span<const std::string> model_labels) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec || !fs::exists(st)) return Error(dir + ": no such directory");
  if (!fs::is_directory(st)) return Error(dir + ": not a directory");

  std::vector<std::string> folders;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (!Hidden(it->path()) && it->is_directory(ec)) folders.push_back(it->path().filename());
  if (ec) return Error(dir + ": cannot list: " + ec.message());
  if (folders.empty())
    return Error(dir + ": no class sub-folders (expected DIR/<class>/<image files>)");
  std::sort(folders.begin(), folders.end());

  ImageFolder out;
  const bool all_known =
      !model_labels.empty() && std::all_of(folders.begin(), folders.end(), [&](const auto& f) {
        return std::find(model_labels.begin(), model_labels.end(), f) != model_labels.end();
      });
  if (all_known) {
    out.classes.assign(model_labels.begin(), model_labels.end());
    out.classes_from_model_labels = true;
  } else {
    out.classes = folders;
  }

  for (const std::string& folder : folders) {
    const int label = static_cast<int>(std::find(out.classes.begin(), out.classes.end(), folder) -
                                       out.classes.begin());
    std::vector<std::string> files;
    const fs::path sub = fs::path(dir) / folder;
    for (fs::directory_iterator it(sub, ec), end; !ec && it != end; it.increment(ec))
      if (!Hidden(it->path()) && it->is_regular_file(ec) && HasImageExtension(it->path()))
        files.push_back(it->path().string());
    if (ec) return Error(sub.string() + ": cannot list: " + ec.message());
    std::sort(files.begin(), files.end());
    for (std::string& f : files) out.samples.push_back({std::move(f), label});
  }
  if (out.samples.empty()) return Error(dir + ": no image files in its class sub-folders");
  return out;
}

}  // namespace outpost::io
