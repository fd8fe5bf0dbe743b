// stb_image_write for tests that write image files (stbi_write_png, _bmp, _jpg): compiled into
// each including file as static functions, with the warnings of the third-party code silenced.
// The including target needs ${STB_INCLUDE_DIR} among its include directories.
#pragma once

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "stb_image_write.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
