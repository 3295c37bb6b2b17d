// C interface to libtorch and OpenCV: opaque handles, one function per op; the few kernels of
// our own (transposed convolution, fused Adam) are documented where they are declared.
// A function that produces a tensor returns NULL on failure; a function that
// returns int returns 0 on success and -1 on failure. On failure the message
// is available from ct_last_error() on the same thread.
#ifndef CTORCH_H
#define CTORCH_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CTTensorImpl *CTTensor;

// dtype codes
enum {
  CT_UINT8 = 0, CT_INT8 = 1, CT_INT16 = 2, CT_INT32 = 3, CT_INT64 = 4,
  CT_FLOAT16 = 5, CT_FLOAT32 = 6, CT_FLOAT64 = 7, CT_BOOL = 11, CT_BFLOAT16 = 15
};
// device types
enum { CT_CPU = 0, CT_CUDA = 1, CT_META = 2 };
// loss reductions
enum { CT_REDUCE_NONE = 0, CT_REDUCE_MEAN = 1, CT_REDUCE_SUM = 2 };

// ---- errors -------------------------------------------------------------
const char *ct_last_error(void);
void ct_clear_error(void);
// While capture depth > 0 the Swift layer records the first failure instead of trapping.
void ct_capture_begin(void);
// Returns the first message recorded since the matching begin (malloc'd, free with ct_free_string) or NULL.
char *ct_capture_end(void);
int ct_capture_depth(void);
void ct_capture_record(const char *message);
void ct_free_string(char *s);

// ---- lifetime & introspection --------------------------------------------
void ct_free(CTTensor t);
CTTensor ct_undefined(void);
int ct_defined(CTTensor t);
int ct_ndim(CTTensor t);
int ct_shape(CTTensor t, int64_t *out);
int ct_strides(CTTensor t, int64_t *out);
int ct_dtype(CTTensor t);
int ct_device_type(CTTensor t);
int ct_device_index(CTTensor t);
int64_t ct_numel(CTTensor t);
int ct_requires_grad(CTTensor t);
int ct_is_contiguous(CTTensor t);
int ct_item(CTTensor t, double *out);
int ct_copy_to(CTTensor t, void *dst, size_t nbytes);
int64_t ct_element_size(int dtype);

// ---- creation -----------------------------------------------------------
CTTensor ct_empty(const int64_t *shape, int ndim, int dtype, int device, int index);
CTTensor ct_zeros(const int64_t *shape, int ndim, int dtype, int device, int index);
CTTensor ct_ones(const int64_t *shape, int ndim, int dtype, int device, int index);
CTTensor ct_full(const int64_t *shape, int ndim, double value, int dtype, int device, int index);
CTTensor ct_rand(const int64_t *shape, int ndim, int dtype, int device, int index);
CTTensor ct_randn(const int64_t *shape, int ndim, int dtype, int device, int index);
CTTensor ct_randint(int64_t low, int64_t high, const int64_t *shape, int ndim, int dtype, int device, int index);
CTTensor ct_randperm(int64_t n, int device, int index);
CTTensor ct_arange(double start, double end, double step, int dtype, int device, int index);
CTTensor ct_from_data(const void *data, size_t nbytes, const int64_t *shape, int ndim, int dtype);

// ---- conversion -------------------------------------------------------------
CTTensor ct_to_dtype(CTTensor t, int dtype);
CTTensor ct_to_device(CTTensor t, int device, int index);
CTTensor ct_clone(CTTensor t);
CTTensor ct_contiguous(CTTensor t);
// 4-D tensors to channels-last memory in place (keeps the tensor's identity); whether one is.
int ct_set_channels_last_(CTTensor t);
int ct_is_channels_last(CTTensor t);
CTTensor ct_detach(CTTensor t);
CTTensor ct_alias(CTTensor t);

// ---- shape ------------------------------------------------------------------
CTTensor ct_reshape(CTTensor t, const int64_t *shape, int ndim);
CTTensor ct_permute(CTTensor t, const int64_t *dims, int ndim);
CTTensor ct_transpose(CTTensor t, int64_t d0, int64_t d1);
CTTensor ct_expand(CTTensor t, const int64_t *shape, int ndim);
CTTensor ct_repeat(CTTensor t, const int64_t *repeats, int ndim);
CTTensor ct_flip(CTTensor t, const int64_t *dims, int ndim);
CTTensor ct_squeeze(CTTensor t, int64_t dim);
CTTensor ct_unsqueeze(CTTensor t, int64_t dim);
CTTensor ct_cat(const CTTensor *ts, int n, int64_t dim);
CTTensor ct_stack(const CTTensor *ts, int n, int64_t dim);
CTTensor ct_slice(CTTensor t, int64_t dim, int64_t start, int64_t end, int64_t step);
CTTensor ct_select(CTTensor t, int64_t dim, int64_t index);
CTTensor ct_index_select(CTTensor t, int64_t dim, CTTensor index);
CTTensor ct_pad_constant(CTTensor t, const int64_t *pad, int npad, double value);
CTTensor ct_pad_reflect(CTTensor t, const int64_t *pad, int npad);
CTTensor ct_pad_replicate(CTTensor t, const int64_t *pad, int npad);

// ---- element-wise -------------------------------------------------------------
CTTensor ct_add(CTTensor a, CTTensor b, double alpha);
CTTensor ct_sub(CTTensor a, CTTensor b, double alpha);
CTTensor ct_mul(CTTensor a, CTTensor b);
CTTensor ct_div(CTTensor a, CTTensor b);
CTTensor ct_pow(CTTensor a, CTTensor b);
CTTensor ct_maximum(CTTensor a, CTTensor b);
CTTensor ct_minimum(CTTensor a, CTTensor b);
CTTensor ct_add_scalar(CTTensor a, double s);
CTTensor ct_mul_scalar(CTTensor a, double s);
CTTensor ct_div_scalar(CTTensor a, double s);
CTTensor ct_rsub_scalar(CTTensor a, double s);
CTTensor ct_rdiv_scalar(CTTensor a, double s);
CTTensor ct_pow_scalar(CTTensor a, double s);
CTTensor ct_eq(CTTensor a, CTTensor b);
CTTensor ct_ne(CTTensor a, CTTensor b);
CTTensor ct_lt(CTTensor a, CTTensor b);
CTTensor ct_le(CTTensor a, CTTensor b);
CTTensor ct_gt(CTTensor a, CTTensor b);
CTTensor ct_ge(CTTensor a, CTTensor b);
CTTensor ct_eq_scalar(CTTensor a, double s);
CTTensor ct_lt_scalar(CTTensor a, double s);
CTTensor ct_gt_scalar(CTTensor a, double s);
CTTensor ct_where(CTTensor cond, CTTensor a, CTTensor b);
CTTensor ct_logical_not(CTTensor a);
CTTensor ct_neg(CTTensor a);
CTTensor ct_abs(CTTensor a);
CTTensor ct_exp(CTTensor a);
CTTensor ct_log(CTTensor a);
CTTensor ct_log1p(CTTensor a);
CTTensor ct_sqrt(CTTensor a);
CTTensor ct_rsqrt(CTTensor a);
CTTensor ct_square(CTTensor a);
CTTensor ct_sin(CTTensor a);
CTTensor ct_cos(CTTensor a);
CTTensor ct_sign(CTTensor a);
CTTensor ct_floor(CTTensor a);
CTTensor ct_ceil(CTTensor a);
CTTensor ct_round(CTTensor a);
CTTensor ct_clamp(CTTensor a, double lo, double hi, int has_lo, int has_hi);
CTTensor ct_lerp(CTTensor a, CTTensor b, double weight);

// ---- activations ----------------------------------------------------------------
CTTensor ct_relu(CTTensor a);
CTTensor ct_leaky_relu(CTTensor a, double slope);
CTTensor ct_sigmoid(CTTensor a);
CTTensor ct_tanh(CTTensor a);
CTTensor ct_softplus(CTTensor a, double beta, double threshold);
CTTensor ct_softmax(CTTensor a, int64_t dim);
CTTensor ct_log_softmax(CTTensor a, int64_t dim);

// ---- reductions (ndims == 0 reduces over all dims) ----------------------------------
CTTensor ct_sum(CTTensor a, const int64_t *dims, int ndims, int keepdim);
CTTensor ct_mean(CTTensor a, const int64_t *dims, int ndims, int keepdim);
CTTensor ct_amax(CTTensor a, const int64_t *dims, int ndims, int keepdim);
CTTensor ct_amin(CTTensor a, const int64_t *dims, int ndims, int keepdim);
CTTensor ct_var(CTTensor a, const int64_t *dims, int ndims, int64_t correction, int keepdim);
CTTensor ct_std(CTTensor a, const int64_t *dims, int ndims, int64_t correction, int keepdim);
CTTensor ct_norm(CTTensor a, double p, const int64_t *dims, int ndims, int keepdim);
CTTensor ct_logsumexp(CTTensor a, const int64_t *dims, int ndims, int keepdim);
CTTensor ct_argmax(CTTensor a, int64_t dim, int keepdim);
CTTensor ct_argmin(CTTensor a, int64_t dim, int keepdim);

// ---- linear algebra -----------------------------------------------------------
CTTensor ct_matmul(CTTensor a, CTTensor b);
CTTensor ct_mv(CTTensor a, CTTensor b);
CTTensor ct_dot(CTTensor a, CTTensor b);
// Eigenvalues (ascending) of symmetric matrices, read from the lower triangle; the
// eigenvectors, as columns, go to *eigenvectors.
CTTensor ct_linalg_eigh(CTTensor a, CTTensor *eigenvectors);

// ---- neural-network functions (NULL weight/bias/statistics mean "absent") ----------
CTTensor ct_conv2d(CTTensor x, CTTensor w, CTTensor b, const int64_t *stride, const int64_t *padding,
                   const int64_t *dilation, int64_t groups);
/* Transposed convolutions on CPU float32 through oneDNN (on by default) or libtorch's own path. */
void ct_set_fast_transposed_convolution(int on);
int ct_fast_transposed_convolution(void);
// Transposed convolutions: im2col (libtorch's own), oneDNN (backward-data kernel), or measure
// both on each shape's first call and keep the faster (default).
enum { CT_TRANSPOSED_IM2COL = 0, CT_TRANSPOSED_ONEDNN = 1, CT_TRANSPOSED_MEASURE = 2 };
void ct_set_transposed_convolution_mode(int mode);
int ct_transposed_convolution_mode(void);
int64_t ct_transposed_convolution_measurements(void);
void ct_transposed_convolution_forget(void);
int ct_transposed_convolution_choices(int *onednn, int *im2col);
// Persists the choices in this file (read now, rewritten after each new measurement); returns
// how many choices are known. NULL or "" keeps them in memory only.
int ct_set_transposed_convolution_cache(const char *path);
CTTensor ct_conv_transpose2d(CTTensor x, CTTensor w, CTTensor b, const int64_t *stride, const int64_t *padding,
                             const int64_t *output_padding, int64_t groups, const int64_t *dilation);
CTTensor ct_linear(CTTensor x, CTTensor w, CTTensor b);
CTTensor ct_group_norm(CTTensor x, int64_t groups, CTTensor w, CTTensor b, double eps);
CTTensor ct_batch_norm(CTTensor x, CTTensor w, CTTensor b, CTTensor running_mean, CTTensor running_var,
                       int training, double momentum, double eps);
CTTensor ct_instance_norm(CTTensor x, CTTensor w, CTTensor b, CTTensor running_mean, CTTensor running_var,
                          int use_input_stats, double momentum, double eps);
CTTensor ct_avg_pool2d(CTTensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                       int ceil_mode, int count_include_pad);
CTTensor ct_max_pool2d(CTTensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                       const int64_t *dilation, int ceil_mode);
CTTensor ct_adaptive_avg_pool2d(CTTensor x, const int64_t *output_size);
CTTensor ct_adaptive_max_pool2d(CTTensor x, const int64_t *output_size);
// scale <= 0 means "derive from sizes"
CTTensor ct_upsample_nearest2d(CTTensor x, const int64_t *output_size, double scale_h, double scale_w);
CTTensor ct_upsample_bilinear2d(CTTensor x, const int64_t *output_size, int align_corners, double scale_h,
                                double scale_w);
CTTensor ct_dropout(CTTensor x, double p, int train);
CTTensor ct_l1_loss(CTTensor x, CTTensor y, int reduction);
CTTensor ct_mse_loss(CTTensor x, CTTensor y, int reduction);
CTTensor ct_bce_with_logits(CTTensor x, CTTensor y, CTTensor weight, CTTensor pos_weight, int reduction);

// ---- in-place -------------------------------------------------------------------
int ct_add_(CTTensor t, CTTensor other, double alpha);
int ct_mul_(CTTensor t, CTTensor other);
int ct_add_scalar_(CTTensor t, double s);
int ct_mul_scalar_(CTTensor t, double s);
int ct_addcmul_(CTTensor t, CTTensor a, CTTensor b, double value);
int ct_addcdiv_(CTTensor t, CTTensor a, CTTensor b, double value);
/* Adam's update of p, exp_avg, exp_avg_sq from grad in one pass (dense float32 CPU); 1: not applicable, nothing changed. */
int ct_adam_step_(CTTensor param, CTTensor grad, CTTensor exp_avg, CTTensor exp_avg_sq, double lr, double beta1,
                  double beta2, double eps, int64_t step);
int ct_copy_(CTTensor dst, CTTensor src);
int ct_zero_(CTTensor t);
int ct_fill_(CTTensor t, double value);
int ct_normal_(CTTensor t, double mean, double std);
int ct_uniform_(CTTensor t, double lo, double hi);
int ct_clamp_(CTTensor t, double lo, double hi);

// ---- autograd -------------------------------------------------------------------
int ct_set_requires_grad(CTTensor t, int flag);
int ct_backward(CTTensor t, CTTensor grad, int retain_graph, int create_graph);
// Returns an undefined tensor when no gradient has been accumulated.
CTTensor ct_grad(CTTensor t);
int ct_set_grad(CTTensor t, CTTensor grad);
int ct_zero_grad(CTTensor t);
// Gradients of outputs[0..n) w.r.t. inputs; results written to out (undefined where unused).
int ct_autograd_grad(const CTTensor *outputs, int nout, const CTTensor *grad_outputs, const CTTensor *inputs,
                     int nin, int retain_graph, int create_graph, int allow_unused, CTTensor *out);
int ct_grad_enabled(void);
void ct_set_grad_enabled(int flag);
/* c10::InferenceMode: no autograd recording and no version counters; ends in reverse order, on the same thread. */
void *ct_inference_mode_begin(void);
void ct_inference_mode_end(void *guard);
// CPU autocast (torch.autocast("cpu", dtype)) on this thread; begin returns the state end restores.
int ct_autocast_begin(int enabled, int dtype);
// libtorch's CPU profiler: begin, then end returns per-operator totals as text lines
// "name\tcalls\tself_us\ttotal_us" (free with free()); NULL / -1 on failure.
int ct_profile_begin(void);
char *ct_profile_end(void);
void ct_autocast_end(int previous);
int ct_autocast_enabled(void);

// ---- random generator -------------------------------------------------------------
void ct_manual_seed(uint64_t seed);
CTTensor ct_rng_get_state(void);
int ct_rng_set_state(CTTensor state);

// ---- runtime ---------------------------------------------------------------------
void ct_set_num_threads(int n);
int ct_get_num_threads(void);
int ct_set_num_interop_threads(int n);
int ct_get_num_interop_threads(void);
char *ct_version(void);
char *ct_config(void);
char *ct_parallel_info(void);
int ct_cuda_available(void);
int ct_cuda_device_count(void);
// Compute capability of CUDA device `index` as major * 10 + minor (0 without CUDA).
int ct_cuda_capability(int index);
// Whether this libtorch was built with CUDA kernels (libtorch_cuda loaded), and the CUDA
// runtime version it was built with (major * 1000 + minor * 10; 0 without).
int ct_cuda_compiled(void);
// cuDNN's autotuner (torch.backends.cudnn.benchmark).
void ct_set_cudnn_benchmark(int on);
// A device this thread makes tensors on instead of the process's default (device -1: none);
// the previous setting is returned through the pointers.
void ct_set_thread_device(int device, int index, int *previous_device, int *previous_index);
int ct_thread_device(int *index);
int ct_mkldnn_available(void);

// ---- images (OpenCV) ----------------------------------------------------------------
// Decodes PNG, JPEG, WebP, BMP, TIFF, ... from memory into float32 HWC in [0, 1] with 1 (grey),
// 3 (RGB) or 4 (RGBA) channels; *bit_depth receives 8 or 16.
CTTensor ct_image_decode(const void *data, size_t nbytes, int *bit_depth);
// Encodes uint8 HWC (1, 3 RGB or 4 RGBA channels; int32 for 16-bit samples) in the format named by ext (".png", ".jpg",
// ".webp", ".bmp", ".tif"); quality applies to JPEG and WebP. *out is malloc'd: free with ct_free_buffer.
int ct_image_encode(CTTensor hwc_u8, const char *ext, int quality, uint8_t **out, size_t *nbytes);
void ct_free_buffer(void *p);
// interpolation: 0 nearest, 1 bilinear, 2 bicubic, 3 area (OpenCV's codes). float32 HWC in and out.
CTTensor ct_image_resize(CTTensor hwc_f32, int width, int height, int interpolation);
// float32 HWC Gaussian blur with the kernel size OpenCV derives from sigma.
CTTensor ct_gaussian_blur(CTTensor hwc_f32, double sigma);
// Canny edges of uint8 HW; returns uint8 HW with 0 / 255.
CTTensor ct_canny(CTTensor hw_u8, double low, double high, int aperture, int l2_gradient);
// Zhang-Suen thinning of a uint8 HW binary image (non-zero = foreground); returns 0 / 255.
CTTensor ct_thinning(CTTensor hw_u8);
// Connected components of non-zero pixels; returns int32 labels (HW) and, in *stats, int32
// (count x 5): left, top, width, height, area per label (label 0 is the background).
CTTensor ct_connected_components(CTTensor hw_u8, int connectivity, CTTensor *stats);

// Data-parallel training on PyTorch's distributed engine (c10d, Gloo; distributed.cpp).
typedef struct CTProcessGroupImpl *CTProcessGroup;
// Joins a Gloo process group (an NCCL one when `nccl` is not 0) of `world` ranks: through a TCPStore at host:port (served by this
// process when `serve` is not 0: rank 0, unless a launcher such as torchrun serves it) or, when
// `file` is not NULL, a FileStore at that path. Collectives fail after the timeout.
CTProcessGroup ct_pg_create(const char *host, int port, int serve, const char *file, int rank, int world, double timeout_seconds,
                            int nccl);
// Whether this build can make NCCL groups (a CUDA build with NCCL's header), and a group's backend.
int ct_pg_nccl_available(void);
const char *ct_pg_backend(CTProcessGroup pg);
void ct_pg_free(CTProcessGroup pg);
// In place, over all ranks: the sum of each tensor (one flat buffer per call; one dtype).
int ct_pg_allreduce_sum(CTProcessGroup pg, CTTensor *tensors, int count);
// In place: every rank's tensors become rank `root`'s.
int ct_pg_broadcast(CTProcessGroup pg, CTTensor *tensors, int count, int root);
int ct_pg_barrier(CTProcessGroup pg);
// Gradient averaging overlapped with backward (DDP's reducer): hooks on `params` copy each
// gradient into a bucket of at most `bucket_bytes`, and a full bucket's all-reduce starts at once.
typedef struct CTReducerImpl *CTReducer;
CTReducer ct_reducer_create(CTProcessGroup pg, CTTensor *params, int count, int64_t bucket_bytes);
void ct_reducer_free(CTReducer r);
int ct_reducer_buckets(CTReducer r);
// Arms the hooks before a backward.
int ct_reducer_begin(CTReducer r);
// After the backward: starts the buckets still waiting, waits for all, and sets each parameter's
// gradient to its mean over the ranks. *wait_seconds: the time spent here (not overlapped).
int ct_reducer_finish(CTReducer r, double *wait_seconds);

#ifdef __cplusplus
}
#endif
#endif
