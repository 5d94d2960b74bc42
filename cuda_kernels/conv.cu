// 2-D convolution, NHWC activations, HWIO filters ([KH, KW, C/groups, OC]),
// as implicit GEMM on the SIMT core of gemm_common.cuh (float32).
//
//   forward        y[M=N*OH*OW, OCg]      = X~[M, K=KH*KW*ICg]   @ W[K, OCg]
//   input grad     dx[M=N*H*W, ICg]       = dY~[M, K=KH*KW*OCg]  @ W^T
//   filter grad    dw[M=KH*KW*ICg, OCg]   = X~^T[M, K=N*OH*OW]   @ dY[K, OCg]
// X~ / dY~ are gathered on the fly (im2col never materialised); padding and
// stride holes read as zero.  Groups walk gridDim.z; the filter gradient also
// splits K over gridDim.z (z = group * splits + split) into a partial buffer
// [splits, KH*KW*ICg, OC] that the launcher sums.
// Depthwise (ICg == 1) has direct kernels: a GEMM with K = KH*KW is mostly padding.
#include "gemm_common.cuh"

using tl_gemm::StridedLoader;
using tl_gemm::StridedStorer;
using tl_gemm::TileCfg;

struct ConvGeom {
  int N, H, W, C, OH, OW, OC, KH, KW, sh, sw, pt, pl, dh, dw, groups;
};

#define TL_CONV_PARAMS                                                                   \
  int N, int H, int W, int C, int OH, int OW, int OC, int KH, int KW, int sh, int sw,    \
      int pt, int pl, int dh, int dw, int groups
#define TL_CONV_GEOM ConvGeom{N, H, W, C, OH, OW, OC, KH, KW, sh, sw, pt, pl, dh, dw, groups}

// Forward A: row m = (n, oh, ow), column k = (kh, kw, ic), contiguous in ic.
struct FwdXLoader {
  const float* x;
  ConvGeom g;
  int c0, icg, rows, cols;
  bool vec;  // icg % 4 == 0, C % 4 == 0: 4 consecutive k share (kh, kw)
  static constexpr bool kmajor = true;
  __device__ __forceinline__ void load4(int m, int k, float (&v)[4]) const {
#pragma unroll
    for (int i = 0; i < 4; ++i) v[i] = 0.f;
    if (m >= rows) return;
    const int ow = m % g.OW, t = m / g.OW, oh = t % g.OH, n = t / g.OH;
    const int ih0 = oh * g.sh - g.pt, iw0 = ow * g.sw - g.pl;
    if (vec && k + 3 < cols) {
      const int ic = k % icg, kk = k / icg, kw = kk % g.KW, kh = kk / g.KW;
      const int ih = ih0 + kh * g.dh, iw = iw0 + kw * g.dw;
      if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) {
        float4 q = *reinterpret_cast<const float4*>(
            x + (((long long)n * g.H + ih) * g.W + iw) * g.C + c0 + ic);
        v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
      }
      return;
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int kq = k + i;
      if (kq >= cols) break;
      const int ic = kq % icg, kk = kq / icg, kw = kk % g.KW, kh = kk / g.KW;
      const int ih = ih0 + kh * g.dh, iw = iw0 + kw * g.dw;
      if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
        v[i] = x[(((long long)n * g.H + ih) * g.W + iw) * g.C + c0 + ic];
    }
  }
};

// Input-grad A: row m = (n, ih, iw), column k = (kh, kw, oc), contiguous in oc.
struct BwdDyLoader {
  const float* dy;
  ConvGeom g;
  int o0, ocg, rows, cols;
  bool vec;  // ocg % 4 == 0, OC % 4 == 0
  static constexpr bool kmajor = true;
  // (ih, iw) -> output (oh, ow) reached through tap (kh, kw), or false.
  __device__ __forceinline__ bool tap(int ih, int iw, int kh, int kw, int& oh, int& ow) const {
    const int th = ih + g.pt - kh * g.dh, tw = iw + g.pl - kw * g.dw;
    if (th < 0 || tw < 0 || th % g.sh || tw % g.sw) return false;
    oh = th / g.sh;
    ow = tw / g.sw;
    return oh < g.OH && ow < g.OW;
  }
  __device__ __forceinline__ void load4(int m, int k, float (&v)[4]) const {
#pragma unroll
    for (int i = 0; i < 4; ++i) v[i] = 0.f;
    if (m >= rows) return;
    const int iw = m % g.W, t = m / g.W, ih = t % g.H, n = t / g.H;
    int oh, ow;
    if (vec && k + 3 < cols) {
      const int oc = k % ocg, kk = k / ocg, kw = kk % g.KW, kh = kk / g.KW;
      if (tap(ih, iw, kh, kw, oh, ow)) {
        float4 q = *reinterpret_cast<const float4*>(
            dy + (((long long)n * g.OH + oh) * g.OW + ow) * g.OC + o0 + oc);
        v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
      }
      return;
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int kq = k + i;
      if (kq >= cols) break;
      const int oc = kq % ocg, kk = kq / ocg, kw = kk % g.KW, kh = kk / g.KW;
      if (tap(ih, iw, kh, kw, oh, ow))
        v[i] = dy[(((long long)n * g.OH + oh) * g.OW + ow) * g.OC + o0 + oc];
    }
  }
};

// Input-grad B (as "rows" n = ic, cols k = (kh, kw, oc)): w[kh, kw, ic, o0 + oc].
struct BwdWLoader {
  const float* w;
  ConvGeom g;
  int o0, ocg, icg, cols;
  bool vec;
  static constexpr bool kmajor = true;
  __device__ __forceinline__ void load4(int ic, int k, float (&v)[4]) const {
#pragma unroll
    for (int i = 0; i < 4; ++i) v[i] = 0.f;
    if (ic >= icg) return;
    if (vec && k + 3 < cols) {
      const int oc = k % ocg, kk = k / ocg;
      float4 q = *reinterpret_cast<const float4*>(w + ((long long)kk * icg + ic) * g.OC + o0 + oc);
      v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
      return;
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int kq = k + i;
      if (kq >= cols) break;
      const int oc = kq % ocg, kk = kq / ocg;
      v[i] = w[((long long)kk * icg + ic) * g.OC + o0 + oc];
    }
  }
};

// Filter-grad A: row m = (kh, kw, ic), column k = (n, oh, ow); contiguous in m.
struct WgradXLoader {
  const float* x;
  ConvGeom g;
  int c0, icg, rows, cols;
  bool vec;  // icg % 4 == 0, C % 4 == 0: 4 consecutive m share (kh, kw)
  static constexpr bool kmajor = false;
  __device__ __forceinline__ void load4(int m, int k, float (&v)[4]) const {
#pragma unroll
    for (int i = 0; i < 4; ++i) v[i] = 0.f;
    if (k >= cols) return;
    const int ow = k % g.OW, t = k / g.OW, oh = t % g.OH, n = t / g.OH;
    const int ih0 = oh * g.sh - g.pt, iw0 = ow * g.sw - g.pl;
    if (vec && m + 3 < rows) {
      const int ic = m % icg, kk = m / icg, kw = kk % g.KW, kh = kk / g.KW;
      const int ih = ih0 + kh * g.dh, iw = iw0 + kw * g.dw;
      if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) {
        float4 q = *reinterpret_cast<const float4*>(
            x + (((long long)n * g.H + ih) * g.W + iw) * g.C + c0 + ic);
        v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
      }
      return;
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int mq = m + i;
      if (mq >= rows) break;
      const int ic = mq % icg, kk = mq / icg, kw = kk % g.KW, kh = kk / g.KW;
      const int ih = ih0 + kh * g.dh, iw = iw0 + kw * g.dw;
      if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
        v[i] = x[(((long long)n * g.H + ih) * g.W + iw) * g.C + c0 + ic];
    }
  }
};

// Forward GEMM over K in `splits` chunks (z = group * splits + split), chunk `split` into
// out[split, M, OC].  The unsplit kernels use one split (k_chunk = K: out is y itself); the
// split-K kernel writes partials the launcher sums, so that problems with too few output
// tiles for whole waves of blocks keep every SM busy.  k_chunk % 16 == 0 when splits > 1, so a
// 4-wide load never straddles two splits.
template <class Cfg>
__device__ __forceinline__ void conv_fwd_body(const float* __restrict__ x,
                                              const float* __restrict__ w,
                                              float* __restrict__ out, ConvGeom g,
                                              int vec, int splits, int k_chunk) {
  __shared__ float4 smem4[Cfg::SMEM_FLOATS / 4];
  const int grp = blockIdx.z / splits, split = blockIdx.z % splits;
  const int icg = g.C / g.groups, ocg = g.OC / g.groups;
  const int M = g.N * g.OH * g.OW, K = g.KH * g.KW * icg;
  const int k0 = split * k_chunk, k1 = min(K, k0 + k_chunk);
  FwdXLoader al{x, g, grp * icg, icg, M, k1, vec != 0 && icg % 4 == 0 && g.C % 4 == 0};
  const bool vb = vec != 0 && ocg % 4 == 0 && g.OC % 4 == 0;
  StridedLoader<false> bl{w + grp * ocg, ocg, k1, g.OC, vb};
  StridedStorer cs{out + (long long)split * M * g.OC + grp * ocg, M, ocg, g.OC, vb};
  tl_gemm::gemm_block<Cfg>(al, bl, cs, blockIdx.y * Cfg::BM, blockIdx.x * Cfg::BN, k0, k1,
                           reinterpret_cast<float*>(smem4));
}

template <class Cfg>
__device__ __forceinline__ void conv_bwd_input_body(const float* __restrict__ dy,
                                                    const float* __restrict__ w,
                                                    float* __restrict__ dx, ConvGeom g, int vec) {
  __shared__ float4 smem4[Cfg::SMEM_FLOATS / 4];
  const int grp = blockIdx.z;
  const int icg = g.C / g.groups, ocg = g.OC / g.groups;
  const int M = g.N * g.H * g.W, K = g.KH * g.KW * ocg;
  const bool vk = vec != 0 && ocg % 4 == 0 && g.OC % 4 == 0;
  BwdDyLoader al{dy, g, grp * ocg, ocg, M, K, vk};
  BwdWLoader bl{w, g, grp * ocg, ocg, icg, K, vk};
  StridedStorer cs{dx + grp * icg, M, icg, g.C, vec != 0 && icg % 4 == 0 && g.C % 4 == 0};
  tl_gemm::gemm_block<Cfg>(al, bl, cs, blockIdx.y * Cfg::BM, blockIdx.x * Cfg::BN, 0, K,
                           reinterpret_cast<float*>(smem4));
}

template <class Cfg>
__device__ __forceinline__ void conv_wgrad_body(const float* __restrict__ x,
                                                const float* __restrict__ dy,
                                                float* __restrict__ partial, ConvGeom g, int vec,
                                                int splits, int k_chunk) {
  __shared__ float4 smem4[Cfg::SMEM_FLOATS / 4];
  const int grp = blockIdx.z / splits, split = blockIdx.z % splits;
  const int icg = g.C / g.groups, ocg = g.OC / g.groups;
  const int M = g.KH * g.KW * icg, K = g.N * g.OH * g.OW;
  const int k0 = split * k_chunk, k1 = min(K, k0 + k_chunk);
  WgradXLoader al{x, g, grp * icg, icg, M, k1, vec != 0 && icg % 4 == 0 && g.C % 4 == 0};
  const bool vb = vec != 0 && ocg % 4 == 0 && g.OC % 4 == 0;
  StridedLoader<false> bl{dy + grp * ocg, ocg, k1, g.OC, vb};
  StridedStorer cs{partial + (long long)split * M * g.OC + grp * ocg, M, ocg, g.OC, vb};
  tl_gemm::gemm_block<Cfg>(al, bl, cs, blockIdx.y * Cfg::BM, blockIdx.x * Cfg::BN, k0, k1,
                           reinterpret_cast<float*>(smem4));
}

// Tile shapes: 128x128 (no suffix), 128x64 (64-wide outputs such as OC = 64) and
// 64x64 (small problems: more blocks).
typedef TileCfg<128, 128, 8, 64, 32> ConvCfg128;
typedef TileCfg<128, 64, 8, 64, 32> ConvCfg128x64;
typedef TileCfg<64, 64, 16, 32, 32> ConvCfg64;

#define TL_CONV_KERNELS(SUFFIX, CFG)                                                         \
  extern "C" __global__ void __launch_bounds__(CFG::NT)                                      \
      tl_conv2d_fwd_nhwc_f32##SUFFIX(const float* __restrict__ x, const float* __restrict__ w, \
                                     float* __restrict__ y, TL_CONV_PARAMS, int vec) {       \
    conv_fwd_body<CFG>(x, w, y, TL_CONV_GEOM, vec, 1, KH * KW * (C / groups));               \
  }                                                                                          \
  extern "C" __global__ void __launch_bounds__(CFG::NT) tl_conv2d_bwd_input_nhwc_f32##SUFFIX( \
      const float* __restrict__ dy, const float* __restrict__ w, float* __restrict__ dx,      \
      TL_CONV_PARAMS, int vec) {                                                             \
    conv_bwd_input_body<CFG>(dy, w, dx, TL_CONV_GEOM, vec);                                  \
  }                                                                                          \
  /* filter gradient, split-K: partial[split, KH*KW*ICg, OC]; k_chunk % 16 == 0 */           \
  extern "C" __global__ void __launch_bounds__(CFG::NT) tl_conv2d_bwd_filter_nhwc_f32##SUFFIX( \
      const float* __restrict__ x, const float* __restrict__ dy, float* __restrict__ partial, \
      TL_CONV_PARAMS, int vec, int splits, int k_chunk) {                                    \
    conv_wgrad_body<CFG>(x, dy, partial, TL_CONV_GEOM, vec, splits, k_chunk);                \
  }

TL_CONV_KERNELS(, ConvCfg128)
TL_CONV_KERNELS(_128x64, ConvCfg128x64)
TL_CONV_KERNELS(_64x64, ConvCfg64)

// Forward split-K on the 128x128 tile (see conv_fwd_body); the launcher chooses it for grids that
// fill a quarter of a wave to one wave (SPLITK_WAVES in kernels/conv.py, from H200 runs). On sm_90 it
// fits 128 registers without spilling, so two blocks share an SM (the launcher's wave model
// assumes that).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define TL_CONV_SPLITK_MIN_BLOCKS 2
#else
#define TL_CONV_SPLITK_MIN_BLOCKS 1
#endif
extern "C" __global__ void __launch_bounds__(ConvCfg128::NT, TL_CONV_SPLITK_MIN_BLOCKS) tl_conv2d_fwd_splitk_nhwc_f32(
    const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ partial,
    TL_CONV_PARAMS, int vec, int splits, int k_chunk) {
  conv_fwd_body<ConvCfg128>(x, w, partial, TL_CONV_GEOM, vec, splits, k_chunk);
}

// ---- depthwise (groups == C, OC = C * mult) --------------------------------

extern "C" __global__ void __launch_bounds__(256)
    tl_depthwise_conv2d_fwd_nhwc_f32(const float* __restrict__ x, const float* __restrict__ w,
                                     float* __restrict__ y, TL_CONV_PARAMS) {
  const int mult = OC / C;
  const long long total = (long long)N * OH * OW * OC;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    const int oc = (int)(i % OC);
    long long t = i / OC;
    const int ow = (int)(t % OW);
    t /= OW;
    const int oh = (int)(t % OH), n = (int)(t / OH);
    const int c = oc / mult;
    float s = 0.f;
    for (int kh = 0; kh < KH; ++kh) {
      const int ih = oh * sh - pt + kh * dh;
      if (ih < 0 || ih >= H) continue;
      for (int kw = 0; kw < KW; ++kw) {
        const int iw = ow * sw - pl + kw * dw;
        if (iw < 0 || iw >= W) continue;
        s += x[(((long long)n * H + ih) * W + iw) * C + c] * w[(kh * KW + kw) * OC + oc];
      }
    }
    y[i] = s;
  }
}

extern "C" __global__ void __launch_bounds__(256)
    tl_depthwise_conv2d_bwd_input_nhwc_f32(const float* __restrict__ dy,
                                           const float* __restrict__ w, float* __restrict__ dx,
                                           TL_CONV_PARAMS) {
  const int mult = OC / C;
  const long long total = (long long)N * H * W * C;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    const int c = (int)(i % C);
    long long t = i / C;
    const int iw = (int)(t % W);
    t /= W;
    const int ih = (int)(t % H), n = (int)(t / H);
    float s = 0.f;
    for (int kh = 0; kh < KH; ++kh) {
      const int th = ih + pt - kh * dh;
      if (th < 0 || th % sh) continue;
      const int oh = th / sh;
      if (oh >= OH) continue;
      for (int kw = 0; kw < KW; ++kw) {
        const int tw = iw + pl - kw * dw;
        if (tw < 0 || tw % sw) continue;
        const int ow = tw / sw;
        if (ow >= OW) continue;
        const float* d = dy + (((long long)n * OH + oh) * OW + ow) * OC + c * mult;
        const float* f = w + (kh * KW + kw) * OC + c * mult;
        for (int j = 0; j < mult; ++j) s += d[j] * f[j];
      }
    }
    dx[i] = s;
  }
}

// grid (ceil(OC/32), KH*KW, splits), block 256 = 32 channels x 8 position
// lanes; partial[split, KH*KW, OC] is summed by the launcher.
extern "C" __global__ void __launch_bounds__(256)
    tl_depthwise_conv2d_bwd_filter_nhwc_f32(const float* __restrict__ x,
                                            const float* __restrict__ dy,
                                            float* __restrict__ partial, TL_CONV_PARAMS) {
  __shared__ float red[8][33];
  const int mult = OC / C;
  const int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
  const int oc = blockIdx.x * 32 + tx;
  const int tap = blockIdx.y, kh = tap / KW, kw = tap % KW;
  const int split = blockIdx.z, splits = gridDim.z;
  const int P = N * OH * OW;
  float s = 0.f;
  if (oc < OC) {
    const int c = oc / mult;
    for (int p = split * 8 + ty; p < P; p += splits * 8) {
      const int ow = p % OW, t = p / OW, oh = t % OH, n = t / OH;
      const int ih = oh * sh - pt + kh * dh, iw = ow * sw - pl + kw * dw;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      s += x[(((long long)n * H + ih) * W + iw) * C + c] * dy[(long long)p * OC + oc];
    }
  }
  red[ty][tx] = s;
  __syncthreads();
  if (ty == 0 && oc < OC) {
    float t = 0.f;
    for (int i = 0; i < 8; ++i) t += red[i][tx];
    partial[((long long)split * KH * KW + tap) * OC + oc] = t;
  }
}

// ---- float16 / bfloat16 forward on tensor cores ---------------------------
// The implicit GEMM of the forward pass on tc16.cuh's mma.sync main loop (128x128 block,
// 8 warps, 3-stage cp.async ring, fp32 accumulation, one rounding at the end).  A tile:
// BM output pixels x BK taps; a 16-byte chunk is 8 consecutive input channels of one tap
// (kh, kw), so it is one cp.async from NHWC x, or a zero fill where the tap falls in the
// padding.  B tile: the HWIO filter is row-major [K = KH*KW*ICg, OC], read through the
// shared n-major tile loader at column offset group * OCg.  vec (ICg % 8 == 0, OCg % 8 == 0,
// 16-byte aligned x / w / y) enables the async 16-byte copies and paired stores; without it
// every element is gathered on its own.  Groups walk gridDim.z.  Chosen only by an explicit
// variant ("tc") until a GPU run shows it faster than the CuPy path (im2col + cuBLAS).
#include "tc16.cuh"

namespace tl_conv_tc {

using Cfg = tl_tc::Tc16Default;

template <bool BF16>
__device__ __forceinline__ void conv_fwd_tc16(const unsigned short* __restrict__ x,
                                              const unsigned short* __restrict__ w,
                                              unsigned short* __restrict__ y, ConvGeom g, int vec) {
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK, KP = Cfg::KP, NT = Cfg::NT;
  constexpr int MI = Cfg::MI, NI = 2 * Cfg::NJ;
  constexpr int CH = 8, CPR = BK / CH, NCH = BM * BK / CH / NT;  // chunks per row, per thread
  static_assert(NCH * CH * NT == BM * BK, "A tile chunks per thread");
  TL_DYNAMIC_SMEM(unsigned short, sm);
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  constexpr int WARPS_M = BM / Cfg::WTM;
  const int wm = (warp % WARPS_M) * Cfg::WTM, wn = (warp / WARPS_M) * Cfg::WTN;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN, grp = blockIdx.z;
  const int icg = g.C / g.groups, ocg = g.OC / g.groups;
  const int M = g.N * g.OH * g.OW, K = g.KH * g.KW * icg;
  const int c0 = grp * icg, o0 = grp * ocg;

  // The output pixels of this thread's A chunks do not change along K: decode them once.
  long long xrow[NCH];
  int ih0[NCH], iw0[NCH];
  bool rok[NCH];
#pragma unroll
  for (int j = 0; j < NCH; ++j) {
    const int m = m0 + (tid + j * NT) / CPR;
    rok[j] = m < M;
    const int mm = rok[j] ? m : 0;
    const int ow = mm % g.OW, t = mm / g.OW, oh = t % g.OH, n = t / g.OH;
    xrow[j] = (long long)n * g.H * g.W * g.C + c0;
    ih0[j] = oh * g.sh - g.pt;
    iw0[j] = ow * g.sw - g.pl;
  }

  auto load_tiles = [&](unsigned short* S, int k0) {
#pragma unroll
    for (int j = 0; j < NCH; ++j) {
      const int c = tid + j * NT, r = c / CPR, kq = (c % CPR) * CH;
      unsigned short* dst = S + r * KP + kq;
      if (vec) {
        const unsigned short* src = x;
        int bytes = 0;
        const int k = k0 + kq;
        if (rok[j] && k < K) {
          const int ic = k % icg, kk = k / icg, kw = kk % g.KW, kh = kk / g.KW;
          const int ih = ih0[j] + kh * g.dh, iw = iw0[j] + kw * g.dw;
          if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) {
            src = x + xrow[j] + ((long long)ih * g.W + iw) * g.C + ic;
            bytes = 16;
          }
        }
        tl_cp_async16(tl_smem_addr(dst), src, bytes);
      } else {
#pragma unroll
        for (int i = 0; i < CH; ++i) {
          const int k = k0 + kq + i;
          unsigned short v = 0;
          if (rok[j] && k < K) {
            const int ic = k % icg, kk = k / icg, kw = kk % g.KW, kh = kk / g.KW;
            const int ih = ih0[j] + kh * g.dh, iw = iw0[j] + kw * g.dw;
            if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
              v = x[xrow[j] + ((long long)ih * g.W + iw) * g.C + ic];
          }
          dst[i] = v;
        }
      }
    }
    tl_tc::load_tile<unsigned short, BK, KP, Cfg::RPB, BN, NT>(S + Cfg::TILE_A, w + o0, n0, k0, ocg, K,
                                                               g.OC, false, vec != 0, tid);
  };

  float acc[MI][NI][4];
  tl_tc::tc16_mainloop<Cfg, BF16, true, false>(acc, sm, (K + BK - 1) / BK, wm, wn, lane, load_tiles);

  const int gq = lane / 4, t4 = lane % 4;
#pragma unroll
  for (int mi = 0; mi < MI; ++mi)
#pragma unroll
    for (int ni = 0; ni < NI; ++ni)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = m0 + wm + mi * 16 + gq + h * 8;
        const int col = n0 + wn + ni * 8 + t4 * 2;
        if (row >= M) continue;
        const unsigned short lo = tl_f2bits<BF16>(acc[mi][ni][2 * h]);
        const unsigned short hi = tl_f2bits<BF16>(acc[mi][ni][2 * h + 1]);
        unsigned short* q = y + (long long)row * g.OC + o0 + col;
        if (vec && col + 1 < ocg) {
          *reinterpret_cast<unsigned*>(q) = (unsigned)lo | ((unsigned)hi << 16);
        } else {
          if (col < ocg) q[0] = lo;
          if (col + 1 < ocg) q[1] = hi;
        }
      }
}

}  // namespace tl_conv_tc

// y (f16 / bf16) = conv2d(x, w), fp32 accumulation.  Dynamic smem: 61440 bytes.
extern "C" __global__ void __launch_bounds__(256) tl_conv2d_fwd_nhwc_f16_tc(
    const unsigned short* __restrict__ x, const unsigned short* __restrict__ w,
    unsigned short* __restrict__ y, TL_CONV_PARAMS, int vec) {
  tl_conv_tc::conv_fwd_tc16<false>(x, w, y, TL_CONV_GEOM, vec);
}
extern "C" __global__ void __launch_bounds__(256) tl_conv2d_fwd_nhwc_bf16_tc(
    const unsigned short* __restrict__ x, const unsigned short* __restrict__ w,
    unsigned short* __restrict__ y, TL_CONV_PARAMS, int vec) {
  tl_conv_tc::conv_fwd_tc16<true>(x, w, y, TL_CONV_GEOM, vec);
}
