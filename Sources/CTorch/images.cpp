// OpenCV entry points of the shim: image codecs, resizing and classic edge operators.
// Tensors and cv::Mat share memory at the boundary; outputs are copied into fresh tensors.
#include "shim.h"

#include <ATen/ATen.h>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/ximgproc.hpp>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using ctshim::wrap;

namespace {

// A Mat view of a contiguous CPU tensor shaped HW or HWC.
cv::Mat view(const at::Tensor &t, int depth) {
  TORCH_CHECK(t.device().is_cpu(), "image operations need a CPU tensor");
  TORCH_CHECK(t.is_contiguous(), "image operations need a contiguous tensor");
  TORCH_CHECK(t.dim() == 2 || t.dim() == 3, "image tensors are HW or HWC, got ", t.dim(), " dimensions");
  int channels = t.dim() == 3 ? static_cast<int>(t.size(2)) : 1;
  TORCH_CHECK(channels >= 1 && channels <= 4, "images have 1 to 4 channels, got ", channels);
  return cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_MAKETYPE(depth, channels), t.data_ptr());
}

at::Tensor fromMat(const cv::Mat &m, at::ScalarType type) {
  cv::Mat c = m.isContinuous() ? m : m.clone();
  std::vector<int64_t> shape = {c.rows, c.cols};
  if (c.channels() > 1) shape.push_back(c.channels());
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
  std::memcpy(t.data_ptr(), c.data, c.total() * c.elemSize());
  return t;
}

void quiet() {
  static bool done = false;
  if (!done) {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    done = true;
  }
}
} // namespace

// CT_GUARD (shim.h) with OpenCV's exceptions caught too.
#define IMG_GUARD(fail, ...)                                                                                           \
  try {                                                                                                                \
    __VA_ARGS__                                                                                                        \
  } catch (const c10::Error &e) {                                                                                      \
    ct_internal_set_error(e.what_without_backtrace());                                                                 \
  } catch (const cv::Exception &e) {                                                                                   \
    ct_internal_set_error(e.err.c_str());                                                                              \
  } catch (const std::exception &e) {                                                                                  \
    ct_internal_set_error(e.what());                                                                                   \
  } catch (...) {                                                                                                      \
    ct_internal_set_error("unknown C++ exception in OpenCV");                                                          \
  }                                                                                                                    \
  return fail;

extern "C" {

CTTensor ct_image_decode(const void *data, size_t nbytes, int *bit_depth) {
  IMG_GUARD(nullptr, {
    quiet();
    TORCH_CHECK(nbytes > 0, "empty file");
    cv::Mat raw(1, static_cast<int>(nbytes), CV_8UC1, const_cast<void *>(data));
    cv::Mat img = cv::imdecode(raw, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION);
    TORCH_CHECK(!img.empty(), "not a readable image (unknown format, truncated or corrupt)");
    double scale;
    switch (img.depth()) {
    case CV_8U: scale = 1.0 / 255.0; *bit_depth = 8; break;
    case CV_16U: scale = 1.0 / 65535.0; *bit_depth = 16; break;
    default: TORCH_CHECK(false, "unsupported sample type (only 8- and 16-bit images are read)");
    }
    cv::Mat f;
    img.convertTo(f, CV_MAKETYPE(CV_32F, img.channels()), scale);
    if (f.channels() == 3) cv::cvtColor(f, f, cv::COLOR_BGR2RGB);
    else if (f.channels() == 4) cv::cvtColor(f, f, cv::COLOR_BGRA2RGBA);
    else TORCH_CHECK(f.channels() == 1, "unsupported channel count ", f.channels());
    return wrap(fromMat(f, at::kFloat));
  })
}

int ct_image_encode(CTTensor hwc_u8, const char *ext, int quality, uint8_t **out, size_t *nbytes) {
  IMG_GUARD(-1, {
    quiet();
    at::Tensor t = hwc_u8->t.contiguous();
    TORCH_CHECK(t.scalar_type() == at::kByte || t.scalar_type() == at::kInt,
                "images are encoded from uint8 tensors, or int32 tensors holding 16-bit samples");
    cv::Mat m;
    if (t.scalar_type() == at::kByte) m = view(t, CV_8U);
    else view(t, CV_32S).convertTo(m, CV_MAKETYPE(CV_16U, t.dim() == 3 ? static_cast<int>(t.size(2)) : 1));
    cv::Mat bgr;
    if (m.channels() == 3) cv::cvtColor(m, bgr, cv::COLOR_RGB2BGR);
    else if (m.channels() == 4) cv::cvtColor(m, bgr, cv::COLOR_RGBA2BGRA);
    else TORCH_CHECK(m.channels() == 1, "images are encoded from 1, 3 or 4 channels, got ", m.channels());
    if (m.channels() == 1) bgr = m;
    std::vector<int> params;
    std::string e(ext);
    if (e == ".jpg" || e == ".jpeg") params = {cv::IMWRITE_JPEG_QUALITY, quality};
    if (e == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, quality};
    std::vector<uchar> buf;
    TORCH_CHECK(cv::imencode(e, bgr, buf, params), "cannot encode as ", e);
    *out = static_cast<uint8_t *>(std::malloc(buf.size() ? buf.size() : 1));
    TORCH_CHECK(*out != nullptr, "out of memory");
    std::memcpy(*out, buf.data(), buf.size());
    *nbytes = buf.size();
    return 0;
  })
}

void ct_free_buffer(void *p) { std::free(p); }

CTTensor ct_image_resize(CTTensor hwc_f32, int width, int height, int interpolation) {
  IMG_GUARD(nullptr, {
    TORCH_CHECK(width > 0 && height > 0, "resize target must be positive, got ", width, "x", height);
    at::Tensor t = hwc_f32->t.contiguous();
    TORCH_CHECK(t.scalar_type() == at::kFloat, "resize takes float32 images");
    cv::Mat out;
    cv::resize(view(t, CV_32F), out, cv::Size(width, height), 0, 0, interpolation);
    at::Tensor r = fromMat(out, at::kFloat);
    if (t.dim() == 3 && r.dim() == 2) r = r.unsqueeze(2);
    return wrap(r);
  })
}

CTTensor ct_gaussian_blur(CTTensor hwc_f32, double sigma) {
  IMG_GUARD(nullptr, {
    TORCH_CHECK(sigma > 0, "blur sigma must be positive");
    at::Tensor t = hwc_f32->t.contiguous();
    TORCH_CHECK(t.scalar_type() == at::kFloat, "blur takes float32 images");
    cv::Mat out;
    cv::GaussianBlur(view(t, CV_32F), out, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT_101);
    at::Tensor r = fromMat(out, at::kFloat);
    if (t.dim() == 3 && r.dim() == 2) r = r.unsqueeze(2);
    return wrap(r);
  })
}

CTTensor ct_canny(CTTensor hw_u8, double low, double high, int aperture, int l2_gradient) {
  IMG_GUARD(nullptr, {
    at::Tensor t = hw_u8->t.contiguous();
    TORCH_CHECK(t.scalar_type() == at::kByte && t.dim() == 2, "Canny takes a uint8 HW image");
    cv::Mat out;
    cv::Canny(view(t, CV_8U), out, low, high, aperture, l2_gradient != 0);
    return wrap(fromMat(out, at::kByte));
  })
}

CTTensor ct_thinning(CTTensor hw_u8) {
  IMG_GUARD(nullptr, {
    at::Tensor t = hw_u8->t.contiguous();
    TORCH_CHECK(t.scalar_type() == at::kByte && t.dim() == 2, "thinning takes a uint8 HW image");
    cv::Mat binary = view(t, CV_8U) > 0;
    cv::Mat out;
    cv::ximgproc::thinning(binary, out, cv::ximgproc::THINNING_ZHANGSUEN);
    return wrap(fromMat(out, at::kByte));
  })
}

CTTensor ct_connected_components(CTTensor hw_u8, int connectivity, CTTensor *stats) {
  IMG_GUARD(nullptr, {
    at::Tensor t = hw_u8->t.contiguous();
    TORCH_CHECK(t.scalar_type() == at::kByte && t.dim() == 2, "connected components take a uint8 HW image");
    cv::Mat labels, st, centroids;
    cv::connectedComponentsWithStats(view(t, CV_8U), labels, st, centroids, connectivity, CV_32S);
    *stats = wrap(fromMat(st, at::kInt));
    return wrap(fromMat(labels, at::kInt));
  })
}

} // extern "C"
