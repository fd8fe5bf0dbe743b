#include "io/input_file.h"

#include "io/image.h"
#include "io/mapped_file.h"
#include "io/npy.h"
#include "io/preprocess.h"

namespace outpost::io {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Expected<LoadedInput> LoadInputFile(Session& session, int input, const std::string& path) {
  Expected<MappedFile> file = MappedFile::Open(path);
  if (!file) return file.error();
  const std::span<const uint8_t> bytes = file->bytes();
  const std::string name = session.input_name(input);

  if (IsNpy(bytes)) {
    // NumPy saves float64 by default; a float32 model input takes it narrowed.
    NpyReadOptions opts;
    opts.float64_to_float32 = session.input_dtype(input) == DType::FLOAT32;
    Expected<HostTensor> t = DecodeNpy(bytes, path, opts);
    if (!t) return t.error();
    Expected<Unit> ok = session.SetInput(input, *t);
    if (!ok) return Error(path + ": " + ok.message());
    return LoadedInput{InputFileKind::kNpy,
                       "npy " + ShapeString(t->shape) + " " + ElementTypeName(t->type)};
  }
  if (EndsWith(path, ".bin") || EndsWith(path, ".raw")) {
    Expected<HostTensor> t =
        ReadRawTensor(path, FromModelDType(session.input_dtype(input)), session.input_shape(input));
    if (!t) return t.error();
    Expected<Unit> ok = session.SetInput(input, *t);
    if (!ok) return Error(path + ": " + ok.message());
    return LoadedInput{InputFileKind::kRaw, "raw " + ShapeString(t->shape)};
  }
  if (!LooksLikeImage(bytes))
    return Error(path +
                 ": not a .npy array, a raw .bin tensor or a supported image (PNG, JPEG, "
                 "BMP, GIF, TGA, PSD, HDR, PNM)");
  Expected<Image> image = DecodeImage(bytes, path);
  if (!image) return image.error();
  Expected<PreprocessPlan> plan = MakePreprocessPlan(session.model().model(), input);
  if (!plan) return Error(path + ": cannot feed an image: " + plan.message());
  std::vector<float> values(plan->num_values());
  Preprocess(image->view(), *plan, values.data());
  Expected<Unit> ok = session.SetInputFromFloat(input, values);
  if (!ok) return Error(path + ": " + ok.message());
  return LoadedInput{InputFileKind::kImage,
                     "image " + std::to_string(image->width) + "x" + std::to_string(image->height) +
                         " " + PixelFormatName(image->format) + " -> " + plan->Describe()};
}

}  // namespace outpost::io
