// reduce.cu -- sum / prod / max / min and argmax / argmin along one (coalesced) axis.
//
// The launcher (tensorlab/backend/cuda/kernels/reduce.py) views the input as a contiguous
// (outer, R, inner) array, R being the reduced extent:
//   inner == 1 -> *_rows_warp_* (one warp per row, short rows) or *_rows_* (a block per row, or
//                 per chunk of a row when gridDim.x > 1: that writes partials for a second pass);
//   inner  > 1 -> *_cols_* (threads along inner, so loads coalesce; gridDim.z splits R into
//                 chunks for a second pass when outer*inner alone cannot fill the GPU);
//                 *_cols_vec_* is its 16-byte-load form (the default on aligned inputs).
// Outputs are in the accumulator type (f32 for f16 input) and multiplied by `scale` (mean).
// max/min propagate NaN like numpy; argmax/argmin return the first index of the extreme (or of
// the first NaN), as int64.
#include "common.cuh"

typedef unsigned short tl_f16;  // raw float16 bits

__device__ __forceinline__ float tl_to_acc(float v) { return v; }
__device__ __forceinline__ double tl_to_acc(double v) { return v; }
__device__ __forceinline__ float tl_to_acc(tl_f16 v) { return tl_half_to_float(v); }

template <class Acc> __device__ __forceinline__ Acc tl_identity(TlSumOp) { return Acc(0); }
template <class Acc> __device__ __forceinline__ Acc tl_identity(TlProdOp) { return Acc(1); }
template <class Acc> __device__ __forceinline__ Acc tl_identity(TlMaxOp) { return -tl_inf<Acc>(); }
template <class Acc> __device__ __forceinline__ Acc tl_identity(TlMinOp) { return tl_inf<Acc>(); }

// Thread `t` of `nt` folds its share of p[0:n): a scalar head up to 16-byte alignment, 16-byte
// vector loads (four per iteration, all issued before the adds, so loads overlap), a scalar tail.
template <class TIn, class Acc, class Op>
__device__ __forceinline__ Acc tl_reduce_range(const TIn* __restrict__ p, long long n, int t, int nt, Op op) {
  constexpr int V = 16 / sizeof(TIn);
  Acc acc = tl_identity<Acc>(op);
  const long long head = tl_align_head(p, sizeof(TIn), n);
  for (long long i = t; i < head; i += nt) acc = op(acc, tl_to_acc(p[i]));
  const uint4* q = reinterpret_cast<const uint4*>(p + head);
  const long long nv = (n - head) / V;
  long long i = t;
  for (; i + 3ll * nt < nv; i += 4ll * nt) {
    uint4 r[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) r[u] = __ldg(q + i + (long long)u * nt);
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      const TIn* e = reinterpret_cast<const TIn*>(&r[u]);
#pragma unroll
      for (int k = 0; k < V; ++k) acc = op(acc, tl_to_acc(e[k]));
    }
  }
  for (; i < nv; i += nt) {
    const uint4 raw = __ldg(q + i);
    const TIn* e = reinterpret_cast<const TIn*>(&raw);
#pragma unroll
    for (int k = 0; k < V; ++k) acc = op(acc, tl_to_acc(e[k]));
  }
  for (long long j = head + nv * V + t; j < n; j += nt) acc = op(acc, tl_to_acc(p[j]));
  return acc;
}

// Lanes per row for the warp kernels: the smallest power of two G <= 32 with G * V >= R, so
// short rows share a warp (32 / G rows per warp). reduce.py mirrors this in warp_group().
__device__ __forceinline__ int tl_warp_group(long long R, int V) {
  int G = 32;
  while (G > 1 && (long long)(G >> 1) * V >= R) G >>= 1;
  return G;
}

template <class T, class Op>
__device__ __forceinline__ T tl_subwarp_allreduce(T v, Op op, int G) {
  for (int o = G >> 1; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(TL_FULL_MASK, v, o));
  return v;
}

// G lanes per row (see tl_warp_group), each taking up to TL_REDUCE_ROW_PACKS 16-byte packs of
// the row, which tl_reduce_range loads together (one pack per lane kept too few bytes in flight:
// rows of 128 float32 reached 0.55 of a copy on the H200); blockDim.x a multiple of 32. The loop
// is warp-uniform: groups past the last row fold nothing and store nothing.
#define TL_REDUCE_ROW_PACKS 4
template <class TIn, class Acc, class Op>
__device__ __forceinline__ void tl_reduce_rows_warp(const TIn* __restrict__ x, Acc* __restrict__ out,
                                                    long long rows, long long R, Acc scale, Op op) {
  const int G = tl_warp_group(R, TL_REDUCE_ROW_PACKS * (16 / sizeof(TIn)));
  const int lane = threadIdx.x & 31, sub = lane & (G - 1), gpw = 32 / G;
  const long long wpb = blockDim.x >> 5;
  const long long gw = (long long)blockIdx.x * wpb + (threadIdx.x >> 5);
  for (long long base = gw * gpw; base < rows; base += (long long)gridDim.x * wpb * gpw) {
    const long long row = base + lane / G;
    const bool valid = row < rows;
    Acc v = valid ? tl_reduce_range<TIn, Acc>(x + row * R, R, sub, G, op) : tl_identity<Acc>(op);
    v = tl_subwarp_allreduce(v, op, G);
    if (valid && sub == 0) out[row] = v * scale;
  }
}

// Block (blockIdx.x, row) reduces columns [blockIdx.x*chunk, +chunk) of a row and writes
// out[row * gridDim.x + blockIdx.x]. Rows loop over blockIdx.y with stride gridDim.y.
template <class TIn, class Acc, class Op>
__device__ __forceinline__ void tl_reduce_rows_block(const TIn* __restrict__ x, Acc* __restrict__ out,
                                                     long long rows, long long R, long long chunk,
                                                     Acc scale, Op op) {
  __shared__ Acc scratch[32];
  const long long c0 = (long long)blockIdx.x * chunk;
  const long long n = R - c0 < chunk ? R - c0 : chunk;
  for (long long row = blockIdx.y; row < rows; row += gridDim.y) {
    Acc v = tl_reduce_range<TIn, Acc>(x + row * R + c0, n, threadIdx.x, blockDim.x, op);
    v = tl_block_allreduce(v, op, tl_identity<Acc>(op), scratch);
    if (threadIdx.x == 0) out[row * gridDim.x + blockIdx.x] = v * scale;
  }
}

// (outer, R, inner) -> (outer, gridDim.z, inner). Block (bx, by), by a power of two;
// dynamic smem: bx*by*sizeof(Acc). Split blockIdx.z covers rows [z*chunk, (z+1)*chunk).
template <class TIn, class Acc, class Op>
__device__ __forceinline__ void tl_reduce_cols(const TIn* __restrict__ x, Acc* __restrict__ out,
                                               long long outer, long long R, long long inner,
                                               long long chunk, Acc scale, Op op) {
  TL_DYNAMIC_SMEM(Acc, sm);
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  const long long col = (long long)blockIdx.x * bx + tx;
  const long long r0 = (long long)blockIdx.z * chunk;
  const long long r1 = R < r0 + chunk ? R : r0 + chunk;
  for (long long o = blockIdx.y; o < outer; o += gridDim.y) {
    Acc acc = tl_identity<Acc>(op);
    if (col < inner) {
      const TIn* p = x + o * R * inner + col;
      long long r = r0 + ty;
      for (; r + 3 * by < r1; r += 4 * by) {  // four independent loads in flight per thread
        TIn v[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) v[u] = __ldg(p + (r + u * by) * inner);
#pragma unroll
        for (int u = 0; u < 4; ++u) acc = op(acc, tl_to_acc(v[u]));
      }
      for (; r < r1; r += by) acc = op(acc, tl_to_acc(__ldg(p + r * inner)));
    }
    sm[ty * bx + tx] = acc;
    __syncthreads();
    for (int s = by >> 1; s > 0; s >>= 1) {
      if (ty < s) sm[ty * bx + tx] = op(sm[ty * bx + tx], sm[(ty + s) * bx + tx]);
      __syncthreads();
    }
    if (ty == 0 && col < inner) out[(o * gridDim.z + blockIdx.z) * inner + col] = sm[tx] * scale;
    __syncthreads();
  }
}

// The 16-byte-load form (default on aligned inputs; variant "vec"): tl_reduce_cols for inner % V == 0,
// V = 16 / sizeof(TIn). Thread tx folds columns [V*c, V*c + V) of its rows with one 16-byte load
// each, so a warp moves 512 bytes per load instead of 128: the scalar kernel keeps too few bytes
// in flight to approach copy bandwidth (0.75 of a copy at 65536x1024 on an H200, this form 0.87). The base
// pointer must be 16-byte aligned (the launcher checks). Dynamic smem: V*bx*by*sizeof(Acc), laid
// out [k][ty][tx] so the cross-ty reduction is free of bank conflicts.
template <class TIn, class Acc, class Op>
__device__ __forceinline__ void tl_reduce_cols_vec(const TIn* __restrict__ x, Acc* __restrict__ out,
                                                   long long outer, long long R, long long inner,
                                                   long long chunk, Acc scale, Op op) {
  constexpr int V = 16 / sizeof(TIn);
  TL_DYNAMIC_SMEM(Acc, sm);
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  const long long nvec = inner / V;  // 16-byte columns per row
  const long long cv = (long long)blockIdx.x * bx + tx;
  const long long r0 = (long long)blockIdx.z * chunk;
  const long long r1 = R < r0 + chunk ? R : r0 + chunk;
  const int plane = bx * by;
  for (long long o = blockIdx.y; o < outer; o += gridDim.y) {
    Acc acc[V];
#pragma unroll
    for (int k = 0; k < V; ++k) acc[k] = tl_identity<Acc>(op);
    if (cv < nvec) {
      const uint4* p = reinterpret_cast<const uint4*>(x + o * R * inner) + cv;
      long long r = r0 + ty;
      for (; r + 3 * by < r1; r += 4 * by) {  // four 16-byte loads in flight per thread
        uint4 v[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) v[u] = __ldg(p + (r + u * by) * nvec);
#pragma unroll
        for (int u = 0; u < 4; ++u) {
          const TIn* e = reinterpret_cast<const TIn*>(&v[u]);
#pragma unroll
          for (int k = 0; k < V; ++k) acc[k] = op(acc[k], tl_to_acc(e[k]));
        }
      }
      for (; r < r1; r += by) {
        const uint4 v = __ldg(p + r * nvec);
        const TIn* e = reinterpret_cast<const TIn*>(&v);
#pragma unroll
        for (int k = 0; k < V; ++k) acc[k] = op(acc[k], tl_to_acc(e[k]));
      }
    }
#pragma unroll
    for (int k = 0; k < V; ++k) sm[k * plane + ty * bx + tx] = acc[k];
    __syncthreads();
    for (int s = by >> 1; s > 0; s >>= 1) {
      if (ty < s) {
#pragma unroll
        for (int k = 0; k < V; ++k)
          sm[k * plane + ty * bx + tx] = op(sm[k * plane + ty * bx + tx], sm[k * plane + (ty + s) * bx + tx]);
      }
      __syncthreads();
    }
    if (ty == 0 && cv < nvec) {
      Acc* dst = out + (o * gridDim.z + blockIdx.z) * inner + cv * V;
#pragma unroll
      for (int k = 0; k < V; ++k) dst[k] = sm[k * plane + tx] * scale;
    }
    __syncthreads();
  }
}

#define TL_REDUCE_KERNELS(NAME, OP, SUF, TIN, ACC)                                                   \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_reduce_##NAME##_rows_warp_##SUF(              \
      const TIN* __restrict__ x, ACC* __restrict__ out, long long rows, long long R, ACC scale) {    \
    tl_reduce_rows_warp<TIN, ACC>(x, out, rows, R, scale, OP());                                     \
  }                                                                                                  \
  extern "C" __global__ void __launch_bounds__(1024, 1) tl_reduce_##NAME##_rows_##SUF(                  \
      const TIN* __restrict__ x, ACC* __restrict__ out, long long rows, long long R, long long chunk, \
      ACC scale) {                                                                                   \
    tl_reduce_rows_block<TIN, ACC>(x, out, rows, R, chunk, scale, OP());                             \
  }                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_reduce_##NAME##_cols_##SUF(                   \
      const TIN* __restrict__ x, ACC* __restrict__ out, long long outer, long long R,                \
      long long inner, long long chunk, ACC scale) {                                                 \
    tl_reduce_cols<TIN, ACC>(x, out, outer, R, inner, chunk, scale, OP());                           \
  }                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_reduce_##NAME##_cols_vec_##SUF(               \
      const TIN* __restrict__ x, ACC* __restrict__ out, long long outer, long long R,                \
      long long inner, long long chunk, ACC scale) {                                                 \
    tl_reduce_cols_vec<TIN, ACC>(x, out, outer, R, inner, chunk, scale, OP());                       \
  }

#define TL_REDUCE_ALL_OPS(SUF, TIN, ACC)       \
  TL_REDUCE_KERNELS(sum, TlSumOp, SUF, TIN, ACC)  \
  TL_REDUCE_KERNELS(prod, TlProdOp, SUF, TIN, ACC) \
  TL_REDUCE_KERNELS(max, TlMaxOp, SUF, TIN, ACC)  \
  TL_REDUCE_KERNELS(min, TlMinOp, SUF, TIN, ACC)

TL_REDUCE_ALL_OPS(f32, float, float)
TL_REDUCE_ALL_OPS(f64, double, double)
TL_REDUCE_ALL_OPS(f16, tl_f16, float)

// ------------------------------------------------------------------------------ argmax / argmin
// (v, i) beats (w, j): NaN first (first NaN wins), then the larger (max) / smaller (min) value,
// ties to the smaller index.
template <class T, bool kMax>
__device__ __forceinline__ bool tl_arg_better(T v, long long i, T w, long long j) {
  if (v != v) return !(w != w) || i < j;
  if (w != w) return false;
  if (kMax ? v > w : v < w) return true;
  return v == w && i < j;
}

template <class T, bool kMax>
__device__ __forceinline__ void tl_arg_warp_reduce(T& v, long long& i, int G = 32) {
  for (int o = G >> 1; o > 0; o >>= 1) {
    const T w = __shfl_xor_sync(TL_FULL_MASK, v, o);
    const long long j = __shfl_xor_sync(TL_FULL_MASK, i, o);
    if (tl_arg_better<T, kMax>(w, j, v, i)) { v = w; i = j; }
  }
}

// Thread t of nt scans p[0:n); index of element k is idx ? idx[k] : base + k.
template <class T, bool kMax>
__device__ __forceinline__ void tl_arg_range(const T* __restrict__ p, const long long* __restrict__ idx,
                                             long long base, long long n, int t, int nt, T& bv, long long& bi) {
  bv = kMax ? -tl_inf<T>() : tl_inf<T>();
  bi = 0x7fffffffffffffffll;
  for (long long k = t; k < n; k += nt) {
    const T v = p[k];
    const long long i = idx ? idx[k] : base + k;
    if (tl_arg_better<T, kMax>(v, i, bv, bi)) { bv = v; bi = i; }
  }
}

template <class T, bool kMax>
__device__ __forceinline__ void tl_arg_rows_warp(const T* __restrict__ x, const long long* __restrict__ xi,
                                                 T* __restrict__ out_v, long long* __restrict__ out_i,
                                                 long long rows, long long R) {
  const int G = tl_warp_group(R, 1);
  const int lane = threadIdx.x & 31, sub = lane & (G - 1), gpw = 32 / G;
  const long long wpb = blockDim.x >> 5;
  const long long gw = (long long)blockIdx.x * wpb + (threadIdx.x >> 5);
  for (long long base = gw * gpw; base < rows; base += (long long)gridDim.x * wpb * gpw) {
    const long long row = base + lane / G;
    const bool valid = row < rows;
    T v;
    long long i;
    tl_arg_range<T, kMax>(x + row * R, xi ? xi + row * R : nullptr, 0, valid ? R : 0, sub, G, v, i);
    tl_arg_warp_reduce<T, kMax>(v, i, G);
    if (valid && sub == 0) {
      if (out_v) out_v[row] = v;
      out_i[row] = i;
    }
  }
}

template <class T, bool kMax>
__device__ __forceinline__ void tl_arg_rows_block(const T* __restrict__ x, const long long* __restrict__ xi,
                                                  T* __restrict__ out_v, long long* __restrict__ out_i,
                                                  long long rows, long long R, long long chunk) {
  __shared__ T sv[32];
  __shared__ long long si[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  const long long c0 = (long long)blockIdx.x * chunk;
  const long long n = R - c0 < chunk ? R - c0 : chunk;
  for (long long row = blockIdx.y; row < rows; row += gridDim.y) {
    T v;
    long long i;
    tl_arg_range<T, kMax>(x + row * R + c0, xi ? xi + row * R + c0 : nullptr, c0, n, threadIdx.x,
                          blockDim.x, v, i);
    tl_arg_warp_reduce<T, kMax>(v, i);
    if (lane == 0) { sv[warp] = v; si[warp] = i; }
    __syncthreads();
    if (warp == 0) {
      v = lane < nwarps ? sv[lane] : (kMax ? -tl_inf<T>() : tl_inf<T>());
      i = lane < nwarps ? si[lane] : 0x7fffffffffffffffll;
      tl_arg_warp_reduce<T, kMax>(v, i);
      if (lane == 0) {
        const long long o = row * gridDim.x + blockIdx.x;
        if (out_v) out_v[o] = v;
        out_i[o] = i;
      }
    }
    __syncthreads();
  }
}

// (outer, R, inner): one thread per (outer, inner) column walks R; coalesced along inner.
template <class T, bool kMax>
__device__ __forceinline__ void tl_arg_cols(const T* __restrict__ x, long long* __restrict__ out_i,
                                            long long outer, long long R, long long inner) {
  const long long total = outer * inner;
  for (long long c = tl_global_thread_id(); c < total; c += tl_grid_stride()) {
    const long long o = c / inner, col = c - o * inner;
    const T* p = x + o * R * inner + col;
    T bv = p[0];
    long long bi = 0;
    for (long long r = 1; r < R; ++r) {
      const T v = p[r * inner];
      if (tl_arg_better<T, kMax>(v, r, bv, bi)) { bv = v; bi = r; }
    }
    out_i[c] = bi;
  }
}

#define TL_ARG_KERNELS(NAME, KMAX, SUF, T)                                                             \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_##NAME##_rows_warp_##SUF(                       \
      const T* __restrict__ x, const long long* __restrict__ xi, T* __restrict__ out_v,                \
      long long* __restrict__ out_i, long long rows, long long R) {                                    \
    tl_arg_rows_warp<T, KMAX>(x, xi, out_v, out_i, rows, R);                                           \
  }                                                                                                    \
  extern "C" __global__ void __launch_bounds__(1024, 1) tl_##NAME##_rows_##SUF(                           \
      const T* __restrict__ x, const long long* __restrict__ xi, T* __restrict__ out_v,                \
      long long* __restrict__ out_i, long long rows, long long R, long long chunk) {                   \
    tl_arg_rows_block<T, KMAX>(x, xi, out_v, out_i, rows, R, chunk);                                   \
  }                                                                                                    \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_##NAME##_cols_##SUF(                            \
      const T* __restrict__ x, long long* __restrict__ out_i, long long outer, long long R,            \
      long long inner) {                                                                               \
    tl_arg_cols<T, KMAX>(x, out_i, outer, R, inner);                                                   \
  }

TL_ARG_KERNELS(argmax, true, f32, float)
TL_ARG_KERNELS(argmin, false, f32, float)
TL_ARG_KERNELS(argmax, true, f64, double)
TL_ARG_KERNELS(argmin, false, f64, double)
