// 2-D max / average pooling on NHWC float32 with TensorFlow semantics:
// padding cells never win a max and are not counted in an average; the max
// gradient goes to the first maximum of each window in (kh, kw) scan order.
// Backward kernels own one input cell each and gather from every window that
// covers it (no atomics, deterministic).  Grid-stride loops, 1-D launch.

#define TL_POOL_PARAMS                                                                    \
  int N, int H, int W, int C, int OH, int OW, int KH, int KW, int sh, int sw, int pt, int pl

#define TL_POOL_LOOP(total)                                                               \
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (total);      \
       i += (long long)gridDim.x * blockDim.x)

// Range of outputs o whose window [o*s - p, o*s - p + k) covers input index i.
__device__ __forceinline__ void covering(int i, int k, int s, int p, int out, int& o0, int& o1) {
  const int t = i + p - k + 1;
  o0 = t <= 0 ? 0 : (t + s - 1) / s;
  o1 = min((i + p) / s, out - 1);
}

// Index (h * W + w) of the first maximum in the window of output (oh, ow).
__device__ __forceinline__ int window_argmax(const float* xc, int H, int W, int C, int oh, int ow,
                                             int KH, int KW, int sh, int sw, int pt, int pl,
                                             float& best) {
  const int h0 = oh * sh - pt, w0 = ow * sw - pl;
  int arg = -1;
  best = 0.f;
  for (int kh = 0; kh < KH; ++kh) {
    const int h = h0 + kh;
    if (h < 0 || h >= H) continue;
    for (int kw = 0; kw < KW; ++kw) {
      const int w = w0 + kw;
      if (w < 0 || w >= W) continue;
      const float v = xc[((long long)h * W + w) * C];
      if (arg < 0 || v > best) {
        best = v;
        arg = h * W + w;
      }
    }
  }
  return arg;
}

extern "C" __global__ void __launch_bounds__(256)
    tl_max_pool2d_fwd_nhwc_f32(const float* __restrict__ x, float* __restrict__ y,
                               TL_POOL_PARAMS) {
  TL_POOL_LOOP((long long)N * OH * OW * C) {
    const int c = (int)(i % C);
    long long t = i / C;
    const int ow = (int)(t % OW);
    t /= OW;
    const int oh = (int)(t % OH), n = (int)(t / OH);
    float best;
    window_argmax(x + (long long)n * H * W * C + c, H, W, C, oh, ow, KH, KW, sh, sw, pt, pl, best);
    y[i] = best;
  }
}

extern "C" __global__ void __launch_bounds__(256)
    tl_max_pool2d_bwd_nhwc_f32(const float* __restrict__ x, const float* __restrict__ dy,
                               float* __restrict__ dx, TL_POOL_PARAMS) {
  TL_POOL_LOOP((long long)N * H * W * C) {
    const int c = (int)(i % C);
    long long t = i / C;
    const int iw = (int)(t % W);
    t /= W;
    const int ih = (int)(t % H), n = (int)(t / H);
    const float* xc = x + (long long)n * H * W * C + c;
    int oh0, oh1, ow0, ow1;
    covering(ih, KH, sh, pt, OH, oh0, oh1);
    covering(iw, KW, sw, pl, OW, ow0, ow1);
    const int me = ih * W + iw;
    float s = 0.f;
    for (int oh = oh0; oh <= oh1; ++oh)
      for (int ow = ow0; ow <= ow1; ++ow) {
        float best;
        if (window_argmax(xc, H, W, C, oh, ow, KH, KW, sh, sw, pt, pl, best) == me)
          s += dy[(((long long)n * OH + oh) * OW + ow) * C + c];
      }
    dx[i] = s;
  }
}

__device__ __forceinline__ int valid_count(int oh, int ow, int H, int W, int KH, int KW, int sh,
                                           int sw, int pt, int pl) {
  const int h0 = oh * sh - pt, w0 = ow * sw - pl;
  const int nh = min(h0 + KH, H) - max(h0, 0), nw = min(w0 + KW, W) - max(w0, 0);
  return max(nh, 0) * max(nw, 0);
}

extern "C" __global__ void __launch_bounds__(256)
    tl_avg_pool2d_fwd_nhwc_f32(const float* __restrict__ x, float* __restrict__ y,
                               TL_POOL_PARAMS) {
  TL_POOL_LOOP((long long)N * OH * OW * C) {
    const int c = (int)(i % C);
    long long t = i / C;
    const int ow = (int)(t % OW);
    t /= OW;
    const int oh = (int)(t % OH), n = (int)(t / OH);
    const float* xc = x + (long long)n * H * W * C + c;
    const int h0 = oh * sh - pt, w0 = ow * sw - pl;
    float s = 0.f;
    for (int h = max(h0, 0); h < min(h0 + KH, H); ++h)
      for (int w = max(w0, 0); w < min(w0 + KW, W); ++w) s += xc[((long long)h * W + w) * C];
    const int cnt = valid_count(oh, ow, H, W, KH, KW, sh, sw, pt, pl);
    y[i] = cnt > 0 ? s / (float)cnt : 0.f;
  }
}

extern "C" __global__ void __launch_bounds__(256)
    tl_avg_pool2d_bwd_nhwc_f32(const float* __restrict__ dy, float* __restrict__ dx,
                               TL_POOL_PARAMS) {
  TL_POOL_LOOP((long long)N * H * W * C) {
    const int c = (int)(i % C);
    long long t = i / C;
    const int iw = (int)(t % W);
    t /= W;
    const int ih = (int)(t % H), n = (int)(t / H);
    int oh0, oh1, ow0, ow1;
    covering(ih, KH, sh, pt, OH, oh0, oh1);
    covering(iw, KW, sw, pl, OW, ow0, ow1);
    float s = 0.f;
    for (int oh = oh0; oh <= oh1; ++oh)
      for (int ow = ow0; ow <= ow1; ++ow)
        // __fdividef (2 ulp): the IEEE divide / __frcp_rn slow-path subroutine spills here
        s += __fdividef(dy[(((long long)n * OH + oh) * OW + ow) * C + c],
                        (float)valid_count(oh, ow, H, W, KH, KW, sh, sw, pt, pl));
    dx[i] = s;
  }
}
