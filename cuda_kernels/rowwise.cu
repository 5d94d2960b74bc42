// rowwise.cu -- softmax family, sparse softmax cross-entropy, layer norm, batch norm (NHWC).
//
// Row kernels see a contiguous (rows, C) array and come in two shapes:
//   *_rows_warp_* : one warp per row (C up to ~1024), 256-thread blocks, grid-stride over rows;
//   *_rows_*      : one block per row (long rows, 64k+ columns), grid-stride over rows.
// Both make one statistics pass and one output pass over the row (the second read of a row
// mostly hits L2). Loads/stores are 16-byte packs when C is a multiple of the pack and the base
// pointers are 16-byte aligned, else scalar (still coalesced).
// Softmax statistics are online: each thread keeps (max, sum of exp(x - max)).
// Column reductions (layer-norm dgamma/dbeta, batch-norm statistics and backward) are two-stage:
// a partial kernel over chunks of rows -> (chunks, C) partials -> a final kernel per column.
#include "common.cuh"

template <class T> __device__ __forceinline__ T tl_exp(T x);
template <> __device__ __forceinline__ float tl_exp<float>(float x) { return expf(x); }
template <> __device__ __forceinline__ double tl_exp<double>(double x) { return exp(x); }
template <class T> __device__ __forceinline__ T tl_log(T x);
template <> __device__ __forceinline__ float tl_log<float>(float x) { return logf(x); }
template <> __device__ __forceinline__ double tl_log<double>(double x) { return log(x); }
__device__ __forceinline__ float tl_rsqrt(float x) { return rsqrtf(x); }
__device__ __forceinline__ double tl_rsqrt(double x) { return rsqrt(x); }

// 16-byte packs for every listed pointer and a whole number of packs per row?
template <class T>
__device__ __forceinline__ bool tl_can_pack(long long C, const void* a, const void* b = nullptr,
                                            const void* c = nullptr) {
  constexpr int V = 16 / sizeof(T);
  return C % V == 0 && tl_is_aligned(a, 16) && (b == nullptr || tl_is_aligned(b, 16)) &&
         (c == nullptr || tl_is_aligned(c, 16));
}

// f(i, a[i]) for the elements of a[0:n) owned by thread t of nt. Packs are loaded four at a
// time before any is used, so each thread keeps several loads in flight.
template <class T, class F>
__device__ __forceinline__ void tl_visit(const T* __restrict__ a, long long n, bool pack, int t, int nt, F f) {
  constexpr int V = 16 / sizeof(T);
  if (pack) {
    const long long s = (long long)nt * V;
    long long i = (long long)t * V;
    for (; i + 3 * s < n; i += 4 * s) {
      TlPack<T> pa[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) pa[u] = *reinterpret_cast<const TlPack<T>*>(a + i + u * s);
#pragma unroll
      for (int u = 0; u < 4; ++u)
#pragma unroll
        for (int k = 0; k < V; ++k) f(i + u * s + k, pa[u].v[k]);
    }
    for (; i < n; i += s) {
      const TlPack<T> pa = *reinterpret_cast<const TlPack<T>*>(a + i);
#pragma unroll
      for (int k = 0; k < V; ++k) f(i + k, pa.v[k]);
    }
  } else {
    for (long long i = t; i < n; i += nt) f(i, a[i]);
  }
}

// f(i, a[i], b[i]).
template <class T, class F>
__device__ __forceinline__ void tl_visit2(const T* __restrict__ a, const T* __restrict__ b, long long n, bool pack,
                                          int t, int nt, F f) {
  constexpr int V = 16 / sizeof(T);
  if (pack) {
    const long long s = (long long)nt * V;
    long long i = (long long)t * V;
    for (; i + s < n; i += 2 * s) {
      TlPack<T> pa[2], pb[2];
#pragma unroll
      for (int u = 0; u < 2; ++u) {
        pa[u] = *reinterpret_cast<const TlPack<T>*>(a + i + u * s);
        pb[u] = *reinterpret_cast<const TlPack<T>*>(b + i + u * s);
      }
#pragma unroll
      for (int u = 0; u < 2; ++u)
#pragma unroll
        for (int k = 0; k < V; ++k) f(i + u * s + k, pa[u].v[k], pb[u].v[k]);
    }
    for (; i < n; i += s) {
      const TlPack<T> pa = *reinterpret_cast<const TlPack<T>*>(a + i);
      const TlPack<T> pb = *reinterpret_cast<const TlPack<T>*>(b + i);
#pragma unroll
      for (int k = 0; k < V; ++k) f(i + k, pa.v[k], pb.v[k]);
    }
  } else {
    for (long long i = t; i < n; i += nt) f(i, a[i], b[i]);
  }
}

// out[i] = f(i, a[i], b ? b[i] : 0); two packs per iteration, loads before stores.
template <class T, class F>
__device__ __forceinline__ void tl_map2(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                                        long long n, bool pack, int t, int nt, F f) {
  constexpr int V = 16 / sizeof(T);
  if (pack) {
    const long long s = (long long)nt * V;
    long long i = (long long)t * V;
    for (; i + s < n; i += 2 * s) {
      TlPack<T> pa[2], pb[2], po[2];
#pragma unroll
      for (int u = 0; u < 2; ++u) {
        pa[u] = *reinterpret_cast<const TlPack<T>*>(a + i + u * s);
        if (b) pb[u] = *reinterpret_cast<const TlPack<T>*>(b + i + u * s);
      }
#pragma unroll
      for (int u = 0; u < 2; ++u)
#pragma unroll
        for (int k = 0; k < V; ++k) po[u].v[k] = f(i + u * s + k, pa[u].v[k], b ? pb[u].v[k] : T(0));
#pragma unroll
      for (int u = 0; u < 2; ++u) *reinterpret_cast<TlPack<T>*>(out + i + u * s) = po[u];
    }
    for (; i < n; i += s) {
      const TlPack<T> pa = *reinterpret_cast<const TlPack<T>*>(a + i);
      TlPack<T> pb;
      if (b) pb = *reinterpret_cast<const TlPack<T>*>(b + i);
      TlPack<T> po;
#pragma unroll
      for (int k = 0; k < V; ++k) po.v[k] = f(i + k, pa.v[k], b ? pb.v[k] : T(0));
      *reinterpret_cast<TlPack<T>*>(out + i) = po;
    }
  } else {
    for (long long i = t; i < n; i += nt) out[i] = f(i, a[i], b ? b[i] : T(0));
  }
}

// Group = G lanes of a warp (kBlock false) or the whole block (kBlock true).
template <bool kBlock, class T, class Op>
__device__ __forceinline__ T tl_group_allreduce(T v, Op op, T ident, T* scratch, int G) {
  if (kBlock) return tl_block_allreduce(v, op, ident, scratch);
  for (int o = G >> 1; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(TL_FULL_MASK, v, o));
  return v;
}

// Lanes per row for warp kernels: smallest power of two G <= 32 with G * V * TL_ROW_PACKS >= C
// (rowwise.py mirrors it as ROW_PACKS); a warp then handles 32 / G rows. A lane takes up to
// TL_ROW_PACKS 16-byte packs of a row, which tl_visit loads together: with one pack per lane
// (G * V >= C) a warp kept too few bytes in flight for short rows (softmax of 128 columns
// reached 0.43 of a copy on the H200, 2026-11-27).
#define TL_ROW_PACKS 4
template <class T>
__device__ __forceinline__ int tl_row_group(long long C) {
  constexpr int V = 16 / sizeof(T);
  int G = 32;
  while (G > 1 && (long long)(G >> 1) * V * TL_ROW_PACKS >= C) G >>= 1;
  return G;
}

// Row iteration for both shapes: body(row, t, nt, scratch, G, valid). The warp loop is
// warp-uniform; a group past the last row gets valid == false and must not load or store.
template <bool kBlock, class T, class Body>
__device__ __forceinline__ void tl_for_rows(long long rows, long long C, Body body) {
  __shared__ T scratch[32];
  if (kBlock) {
    for (long long row = blockIdx.x; row < rows; row += gridDim.x)
      body(row, (int)threadIdx.x, (int)blockDim.x, scratch, 32, true);
  } else {
    const int G = tl_row_group<T>(C);
    const int lane = threadIdx.x & 31, gpw = 32 / G;
    const long long wpb = blockDim.x >> 5;
    const long long gw = (long long)blockIdx.x * wpb + (threadIdx.x >> 5);
    for (long long base = gw * gpw; base < rows; base += (long long)gridDim.x * wpb * gpw) {
      const long long row = base + lane / G;
      const bool valid = row < rows;
      body(valid ? row : rows - 1, lane & (G - 1), G, scratch, G, valid);
    }
  }
}

// Online softmax statistics of one row: M = max, S = sum exp(x - M), over the group.
template <bool kBlock, class T>
__device__ __forceinline__ void tl_softmax_stats(const T* __restrict__ x, long long C, bool pack, int t, int nt,
                                                 T* scratch, int G, T& M, T& S) {
  T m = -tl_inf<T>(), s = T(0);
  tl_visit(x, C, pack, t, nt, [&](long long, T v) {
    if (v > m) {
      s = s * tl_exp(m - v) + T(1);
      m = v;
    } else if (v != -tl_inf<T>()) {  // (-inf) - (-inf) would be NaN; a NaN v must land here
      s += (v == m) ? T(1) : tl_exp(v - m);  // v == m == +inf: exp(0), not exp(inf - inf)
    }
  });
  M = tl_group_allreduce<kBlock>(m, TlMaxOp(), -tl_inf<T>(), scratch, G);
  s = (s == T(0) || m == M) ? s : s * tl_exp(m - M);  // NaN in s survives; m == M == +inf scales by 1
  S = tl_group_allreduce<kBlock>(s, TlSumOp(), T(0), scratch, G);
}

// The sum to normalize probabilities by: NaN for a row holding +inf (its probabilities are
// inf / inf, NaN on the CPU too); only logsumexp keeps that row's +inf (M + log(S), S >= 1).
template <class T>
__device__ __forceinline__ T tl_probs_sum(T M, T S) { return M == tl_inf<T>() ? tl_nan<T>() : S; }

// kMode: 0 softmax, 1 log_softmax, 2 logsumexp (y has one value per row).
template <bool kBlock, int kMode, class T>
__device__ __forceinline__ void tl_softmax_fwd(const T* __restrict__ x, T* __restrict__ y, long long rows, long long C) {
  const bool pack = tl_can_pack<T>(C, x, kMode == 2 ? nullptr : y);
  tl_for_rows<kBlock, T>(rows, C, [&](long long row, int t, int nt, T* scratch, int G, bool valid) {
    const T* xr = x + row * C;
    const long long n = valid ? C : 0;
    T M, S;
    tl_softmax_stats<kBlock>(xr, n, pack, t, nt, scratch, G, M, S);
    if (kMode != 2) S = tl_probs_sum(M, S);
    if (kMode == 2) {
      if (t == 0 && valid) y[row] = M + tl_log(S);
    } else if (kMode == 1) {
      const T off = M + tl_log(S);
      tl_map2<T>(xr, nullptr, y + row * C, n, pack, t, nt, [&](long long, T v, T) { return v - off; });
    } else {
      const T inv = T(1) / S;
      tl_map2<T>(xr, nullptr, y + row * C, n, pack, t, nt, [&](long long, T v, T) { return tl_exp(v - M) * inv; });
    }
  });
}

// kMode 0: softmax backward dx = y * (dy - sum(dy * y)); kMode 1: log_softmax backward
// dx = dy - exp(y) * sum(dy) (y is the log_softmax output).
template <bool kBlock, int kMode, class T>
__device__ __forceinline__ void tl_softmax_bwd(const T* __restrict__ y, const T* __restrict__ dy, T* __restrict__ dx,
                                               long long rows, long long C) {
  const bool pack = tl_can_pack<T>(C, y, dy, dx);
  tl_for_rows<kBlock, T>(rows, C, [&](long long row, int t, int nt, T* scratch, int G, bool valid) {
    const T* yr = y + row * C;
    const T* gr = dy + row * C;
    const long long n = valid ? C : 0;
    T acc = T(0);
    tl_visit2(yr, gr, n, pack, t, nt, [&](long long, T a, T g) { acc += kMode == 0 ? a * g : g; });
    const T dot = tl_group_allreduce<kBlock>(acc, TlSumOp(), T(0), scratch, G);
    tl_map2<T>(yr, gr, dx + row * C, n, pack, t, nt, [&](long long, T a, T g) {
      return kMode == 0 ? a * (g - dot) : g - tl_exp(a) * dot;
    });
  });
}

// loss[row] = logsumexp(x) - x[label]; dlogits = (softmax(x) - onehot(label)) * (grad ? grad[row] : 1).
// A label outside [0, C) gives NaN loss and NaN gradients for its row. loss / dlogits may be null.
template <bool kBlock, class T>
__device__ __forceinline__ void tl_sparse_xent(const T* __restrict__ x, const long long* __restrict__ labels,
                                               const T* __restrict__ grad, T* __restrict__ loss,
                                               T* __restrict__ dlogits, long long rows, long long C) {
  const bool pack = tl_can_pack<T>(C, x, dlogits);
  tl_for_rows<kBlock, T>(rows, C, [&](long long row, int t, int nt, T* scratch, int G, bool valid) {
    const T* xr = x + row * C;
    const long long n = valid ? C : 0;
    T M, S;
    tl_softmax_stats<kBlock>(xr, n, pack, t, nt, scratch, G, M, S);
    S = tl_probs_sum(M, S);
    const long long lab = labels[row];
    const bool ok = lab >= 0 && lab < C;
    if (loss && t == 0 && valid) loss[row] = ok ? M + tl_log(S) - xr[lab] : tl_nan<T>();
    if (dlogits) {
      const T g = grad ? grad[row] : T(1);
      const T inv = T(1) / S;
      const T bad = ok ? T(0) : tl_nan<T>();
      tl_map2<T>(xr, nullptr, dlogits + row * C, n, pack, t, nt, [&](long long i, T v, T) {
        return (tl_exp(v - M) * inv - (i == lab ? T(1) : T(0)) + bad) * g;
      });
    }
  });
}

// Mean and 1 / sqrt(var + eps) of a row from sums shifted by its first element k
// (cancellation-safe when |mean| >> std); visit(f) calls f(i, x[i]) for this thread's elements.
template <bool kBlock, class T, class Visit>
__device__ __forceinline__ void tl_layer_norm_stats(Visit visit, long long C, T k, T eps, T* scratch, int G,
                                                    T& mean, T& rstd) {
  T s1 = T(0), s2 = T(0);
  visit([&](long long, T v) {
    const T d = v - k;
    s1 += d;
    s2 += d * d;
  });
  s1 = tl_group_allreduce<kBlock>(s1, TlSumOp(), T(0), scratch, G);
  s2 = tl_group_allreduce<kBlock>(s2, TlSumOp(), T(0), scratch, G);
  const T m1 = s1 / T(C);
  T var = s2 / T(C) - m1 * m1;
  var = var > T(0) ? var : T(0);
  mean = k + m1;
  rstd = tl_rsqrt(var + eps);
}

// Layer norm over the last axis. Variance from sums shifted by the row's first element
// (cancellation-safe when |mean| >> std). gamma/beta/mean/rstd may be null.
template <bool kBlock, class T>
__device__ __forceinline__ void tl_layer_norm_fwd(const T* __restrict__ x, const T* __restrict__ gamma,
                                                  const T* __restrict__ beta, T* __restrict__ y,
                                                  T* __restrict__ mean_out, T* __restrict__ rstd_out,
                                                  long long rows, long long C, T eps) {
  const bool pack = tl_can_pack<T>(C, x, y);
  tl_for_rows<kBlock, T>(rows, C, [&](long long row, int t, int nt, T* scratch, int G, bool valid) {
    const T* xr = x + row * C;
    const long long n = valid ? C : 0;
    T mean, rstd;
    tl_layer_norm_stats<kBlock>([&](auto f) { tl_visit(xr, n, pack, t, nt, f); }, C, xr[0], eps, scratch, G,
                                mean, rstd);
    if (t == 0 && valid) {
      if (mean_out) mean_out[row] = mean;
      if (rstd_out) rstd_out[row] = rstd;
    }
    tl_map2<T>(xr, nullptr, y + row * C, n, pack, t, nt, [&](long long i, T v, T) {
      T o = (v - mean) * rstd;
      if (gamma) o *= gamma[i];
      if (beta) o += beta[i];
      return o;
    });
  });
}

// dx = rstd * (g*dy - mean(g*dy) - xhat * mean(g*dy*xhat)), g = gamma (or 1).
template <bool kBlock, class T>
__device__ __forceinline__ void tl_layer_norm_bwd_dx(const T* __restrict__ dy, const T* __restrict__ x,
                                                     const T* __restrict__ gamma, const T* __restrict__ mean,
                                                     const T* __restrict__ rstd, T* __restrict__ dx,
                                                     long long rows, long long C) {
  const bool pack = tl_can_pack<T>(C, dy, x, dx);
  tl_for_rows<kBlock, T>(rows, C, [&](long long row, int t, int nt, T* scratch, int G, bool valid) {
    const T* gr = dy + row * C;
    const T* xr = x + row * C;
    const long long n = valid ? C : 0;
    const T mu = mean[row], rs = rstd[row];
    T a = T(0), b = T(0);
    tl_visit2(gr, xr, n, pack, t, nt, [&](long long i, T g, T v) {
      const T gg = gamma ? g * gamma[i] : g;
      a += gg;
      b += gg * (v - mu) * rs;
    });
    a = tl_group_allreduce<kBlock>(a, TlSumOp(), T(0), scratch, G) / T(C);
    b = tl_group_allreduce<kBlock>(b, TlSumOp(), T(0), scratch, G) / T(C);
    tl_map2<T>(gr, xr, dx + row * C, n, pack, t, nt, [&](long long i, T g, T v) {
      const T gg = gamma ? g * gamma[i] : g;
      return rs * (gg - a - (v - mu) * rs * b);
    });
  });
}

// ---- register-cached candidates ----------------------------------------------------------
// The default row kernels read a row twice (statistics, then output; the second read mostly
// hits L2). The candidates below load each thread's part of the row once into registers, as up
// to PMAX 16-byte packs, and compute both passes from there, so a row crosses the memory system
// once each way. Rows that need more than PMAX packs per thread, or cannot use 16-byte packs,
// take the default path (a uniform branch).

// Thread t of nt owns packs p * nt + t (p < PMAX) of a row.
template <class T, int PMAX>
struct TlRowCache {
  static constexpr int V = 16 / sizeof(T);
  TlPack<T> r[PMAX];

  static __device__ __forceinline__ bool fits(long long C, int nt) { return C <= (long long)PMAX * nt * V; }
  __device__ __forceinline__ void load(const T* __restrict__ xr, long long n, int t, int nt) {
#pragma unroll
    for (int p = 0; p < PMAX; ++p) {  // all loads issued before any use
      const long long i = ((long long)p * nt + t) * V;
      if (i < n) r[p] = *reinterpret_cast<const TlPack<T>*>(xr + i);
    }
  }
  // f(i, x[i]) for the cached elements.
  template <class F>
  __device__ __forceinline__ void visit(long long n, int t, int nt, F f) const {
#pragma unroll
    for (int p = 0; p < PMAX; ++p) {
      const long long i = ((long long)p * nt + t) * V;
      if (i < n) {
#pragma unroll
        for (int k = 0; k < V; ++k) f(i + k, r[p].v[k]);
      }
    }
  }
  // yr[i] = f(i, x[i]) for the cached elements, as 16-byte stores.
  template <class F>
  __device__ __forceinline__ void store(T* __restrict__ yr, long long n, int t, int nt, F f) const {
#pragma unroll
    for (int p = 0; p < PMAX; ++p) {
      const long long i = ((long long)p * nt + t) * V;
      if (i < n) {
        TlPack<T> o;
#pragma unroll
        for (int k = 0; k < V; ++k) o.v[k] = f(i + k, r[p].v[k]);
        *reinterpret_cast<TlPack<T>*>(yr + i) = o;
      }
    }
  }
};

// Threads that share a row in tl_for_rows<kBlock, T>.
template <bool kBlock, class T>
__device__ __forceinline__ int tl_row_threads(long long C) {
  return kBlock ? (int)blockDim.x : tl_row_group<T>(C);
}

// body(row, t, nt, scratch, G, valid, n, cache) for every row of x, with this thread's part of
// the row loaded into `cache` (n = C, or 0 for a group past the last row); fallback() instead
// when `pack` is false or a row needs more than PMAX packs per thread.
template <bool kBlock, class T, int PMAX, class Fallback, class Body>
__device__ __forceinline__ void tl_for_cached_rows(const T* __restrict__ x, long long rows, long long C, bool pack,
                                                   Fallback fallback, Body body) {
  using Cache = TlRowCache<T, PMAX>;
  if (!pack || !Cache::fits(C, tl_row_threads<kBlock, T>(C))) {
    fallback();
    return;
  }
  tl_for_rows<kBlock, T>(rows, C, [&](long long row, int t, int nt, T* scratch, int G, bool valid) {
    const long long n = valid ? C : 0;
    Cache c;
    c.load(x + row * C, n, t, nt);
    body(row, t, nt, scratch, G, valid, n, c);
  });
}

// Softmax statistics of a cached row: M = max (NaN ignored here, caught by the sum), S = sum of
// exp(x - M) over finite-or-+inf x (NaN and +inf make S NaN, as in the default kernel).
template <bool kBlock, class T, class Cache>
__device__ __forceinline__ void tl_cached_softmax_stats(const Cache& c, long long n, int t, int nt, T* scratch,
                                                        int G, T& M, T& S) {
  T m = -tl_inf<T>();
  c.visit(n, t, nt, [&](long long, T v) { m = v > m ? v : m; });
  M = tl_group_allreduce<kBlock>(m, TlMaxOp(), -tl_inf<T>(), scratch, G);
  T s = T(0);
  c.visit(n, t, nt, [&](long long, T v) {
    if (v != -tl_inf<T>()) s += (v == M) ? T(1) : tl_exp(v - M);
  });
  S = tl_group_allreduce<kBlock>(s, TlSumOp(), T(0), scratch, G);
}

// Cached tl_softmax_fwd (kMode 0 softmax, 1 log_softmax, 2 logsumexp).
template <bool kBlock, int kMode, class T, int PMAX>
__device__ __forceinline__ void tl_softmax_fwd_cached(const T* __restrict__ x, T* __restrict__ y,
                                                      long long rows, long long C) {
  tl_for_cached_rows<kBlock, T, PMAX>(
      x, rows, C, tl_can_pack<T>(C, x, kMode == 2 ? nullptr : y),
      [&] { tl_softmax_fwd<kBlock, kMode, T>(x, y, rows, C); },
      [&](long long row, int t, int nt, T* scratch, int G, bool valid, long long n, const auto& c) {
        T M, S;
        tl_cached_softmax_stats<kBlock>(c, n, t, nt, scratch, G, M, S);
        if (kMode != 2) S = tl_probs_sum(M, S);
        if (kMode == 2) {
          if (t == 0 && valid) y[row] = M + tl_log(S);
          return;
        }
        const T off = M + tl_log(S), inv = T(1) / S;
        c.store(y + row * C, n, t, nt, [&](long long, T v) { return kMode == 1 ? v - off : tl_exp(v - M) * inv; });
      });
}

// Cached tl_sparse_xent: the same loss, dlogits and NaN rules.
template <bool kBlock, class T, int PMAX>
__device__ __forceinline__ void tl_sparse_xent_cached(const T* __restrict__ x, const long long* __restrict__ labels,
                                                      const T* __restrict__ grad, T* __restrict__ loss,
                                                      T* __restrict__ dlogits, long long rows, long long C) {
  tl_for_cached_rows<kBlock, T, PMAX>(
      x, rows, C, tl_can_pack<T>(C, x, dlogits),
      [&] { tl_sparse_xent<kBlock, T>(x, labels, grad, loss, dlogits, rows, C); },
      [&](long long row, int t, int nt, T* scratch, int G, bool valid, long long n, const auto& c) {
        T M, S;
        tl_cached_softmax_stats<kBlock>(c, n, t, nt, scratch, G, M, S);
        S = tl_probs_sum(M, S);
        const long long lab = labels[row];
        const bool ok = lab >= 0 && lab < C;
        if (loss && t == 0 && valid) loss[row] = ok ? M + tl_log(S) - x[row * C + lab] : tl_nan<T>();
        if (dlogits) {
          const T g = grad ? grad[row] : T(1);
          const T inv = T(1) / S;
          const T bad = ok ? T(0) : tl_nan<T>();
          c.store(dlogits + row * C, n, t, nt, [&](long long i, T v) {
            return (tl_exp(v - M) * inv - (i == lab ? T(1) : T(0)) + bad) * g;
          });
        }
      });
}

// Cached tl_layer_norm_fwd: the same shifted sums and outputs.
template <bool kBlock, class T, int PMAX>
__device__ __forceinline__ void tl_layer_norm_fwd_cached(const T* __restrict__ x, const T* __restrict__ gamma,
                                                         const T* __restrict__ beta, T* __restrict__ y,
                                                         T* __restrict__ mean_out, T* __restrict__ rstd_out,
                                                         long long rows, long long C, T eps) {
  tl_for_cached_rows<kBlock, T, PMAX>(
      x, rows, C, tl_can_pack<T>(C, x, y),
      [&] { tl_layer_norm_fwd<kBlock, T>(x, gamma, beta, y, mean_out, rstd_out, rows, C, eps); },
      [&](long long row, int t, int nt, T* scratch, int G, bool valid, long long n, const auto& c) {
        T mean, rstd;
        tl_layer_norm_stats<kBlock>([&](auto f) { c.visit(n, t, nt, f); }, C, x[row * C], eps, scratch, G,
                                    mean, rstd);
        if (t == 0 && valid) {
          if (mean_out) mean_out[row] = mean;
          if (rstd_out) rstd_out[row] = rstd;
        }
        c.store(y + row * C, n, t, nt, [&](long long i, T v) {
          T o = (v - mean) * rstd;
          if (gamma) o *= gamma[i];
          if (beta) o += beta[i];
          return o;
        });
      });
}

// f64 warp kernels need more than 64 registers: fewer resident blocks instead of spills.
#define TL_WARP_MINB(T) (sizeof(T) == 8 ? 2 : 4)

#define TL_ROW_KERNELS(SUF, T)                                                                                  \
  extern "C" __global__ void __launch_bounds__(256, TL_WARP_MINB(T)) tl_softmax_rows_warp_##SUF(const T* __restrict__ x,        \
      T* __restrict__ y, long long rows, long long C) { tl_softmax_fwd<false, 0>(x, y, rows, C); }              \
  extern "C" __global__ void __launch_bounds__(512, 2) tl_softmax_rows_##SUF(const T* __restrict__ x,            \
      T* __restrict__ y, long long rows, long long C) { tl_softmax_fwd<true, 0>(x, y, rows, C); }               \
  extern "C" __global__ void __launch_bounds__(256, TL_WARP_MINB(T)) tl_log_softmax_rows_warp_##SUF(const T* __restrict__ x,    \
      T* __restrict__ y, long long rows, long long C) { tl_softmax_fwd<false, 1>(x, y, rows, C); }              \
  extern "C" __global__ void __launch_bounds__(512, 2) tl_log_softmax_rows_##SUF(const T* __restrict__ x,        \
      T* __restrict__ y, long long rows, long long C) { tl_softmax_fwd<true, 1>(x, y, rows, C); }               \
  extern "C" __global__ void __launch_bounds__(256, TL_WARP_MINB(T)) tl_logsumexp_rows_warp_##SUF(const T* __restrict__ x,      \
      T* __restrict__ y, long long rows, long long C) { tl_softmax_fwd<false, 2>(x, y, rows, C); }              \
  extern "C" __global__ void __launch_bounds__(512, 2) tl_logsumexp_rows_##SUF(const T* __restrict__ x,          \
      T* __restrict__ y, long long rows, long long C) { tl_softmax_fwd<true, 2>(x, y, rows, C); }               \
  extern "C" __global__ void __launch_bounds__(256, TL_WARP_MINB(T)) tl_softmax_bwd_rows_warp_##SUF(const T* __restrict__ y,    \
      const T* __restrict__ dy, T* __restrict__ dx, long long rows, long long C) {                              \
    tl_softmax_bwd<false, 0>(y, dy, dx, rows, C); }                                                             \
  extern "C" __global__ void __launch_bounds__(512, 2) tl_softmax_bwd_rows_##SUF(const T* __restrict__ y,        \
      const T* __restrict__ dy, T* __restrict__ dx, long long rows, long long C) {                              \
    tl_softmax_bwd<true, 0>(y, dy, dx, rows, C); }                                                              \
  extern "C" __global__ void __launch_bounds__(256, TL_WARP_MINB(T)) tl_log_softmax_bwd_rows_warp_##SUF(const T* __restrict__ y,\
      const T* __restrict__ dy, T* __restrict__ dx, long long rows, long long C) {                              \
    tl_softmax_bwd<false, 1>(y, dy, dx, rows, C); }                                                             \
  extern "C" __global__ void __launch_bounds__(512, 2) tl_log_softmax_bwd_rows_##SUF(const T* __restrict__ y,    \
      const T* __restrict__ dy, T* __restrict__ dx, long long rows, long long C) {                              \
    tl_softmax_bwd<true, 1>(y, dy, dx, rows, C); }                                                              \
  extern "C" __global__ void __launch_bounds__(256, TL_WARP_MINB(T)) tl_sparse_xent_fwd_bwd_rows_warp_##SUF(                    \
      const T* __restrict__ x, const long long* __restrict__ labels, const T* __restrict__ grad,              \
      T* __restrict__ loss, T* __restrict__ dlogits, long long rows, long long C) {                             \
    tl_sparse_xent<false>(x, labels, grad, loss, dlogits, rows, C); }                                           \
  extern "C" __global__ void __launch_bounds__(512, 2) tl_sparse_xent_fwd_bwd_rows_##SUF(                        \
      const T* __restrict__ x, const long long* __restrict__ labels, const T* __restrict__ grad,              \
      T* __restrict__ loss, T* __restrict__ dlogits, long long rows, long long C) {                             \
    tl_sparse_xent<true>(x, labels, grad, loss, dlogits, rows, C); }                                            \
  extern "C" __global__ void __launch_bounds__(256, TL_WARP_MINB(T)) tl_layer_norm_fwd_rows_warp_##SUF(const T* __restrict__ x, \
      const T* __restrict__ gamma, const T* __restrict__ beta, T* __restrict__ y, T* __restrict__ mean,       \
      T* __restrict__ rstd, long long rows, long long C, T eps) {                                               \
    tl_layer_norm_fwd<false>(x, gamma, beta, y, mean, rstd, rows, C, eps); }                                    \
  extern "C" __global__ void __launch_bounds__(512, 2) tl_layer_norm_fwd_rows_##SUF(const T* __restrict__ x,     \
      const T* __restrict__ gamma, const T* __restrict__ beta, T* __restrict__ y, T* __restrict__ mean,       \
      T* __restrict__ rstd, long long rows, long long C, T eps) {                                               \
    tl_layer_norm_fwd<true>(x, gamma, beta, y, mean, rstd, rows, C, eps); }                                     \
  extern "C" __global__ void __launch_bounds__(256, TL_WARP_MINB(T)) tl_layer_norm_bwd_dx_rows_warp_##SUF(                      \
      const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ gamma,                          \
      const T* __restrict__ mean, const T* __restrict__ rstd, T* __restrict__ dx, long long rows, long long C) { \
    tl_layer_norm_bwd_dx<false>(dy, x, gamma, mean, rstd, dx, rows, C); }                                       \
  extern "C" __global__ void __launch_bounds__(512, 2) tl_layer_norm_bwd_dx_rows_##SUF(                          \
      const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ gamma,                          \
      const T* __restrict__ mean, const T* __restrict__ rstd, T* __restrict__ dx, long long rows, long long C) { \
    tl_layer_norm_bwd_dx<true>(dy, x, gamma, mean, rstd, dx, rows, C); }

TL_ROW_KERNELS(f32, float)
TL_ROW_KERNELS(f64, double)

// Candidates (float32): register-cached softmax, log_softmax, sparse cross-entropy and layer
// norm, up to 8 packs (32 floats) per thread, i.e. rows up to 1024 in the warp form and up to
// 16384 in the block form (512 threads).
// The 32 cached floats, next to the inlined default path, need more than the default kernels'
// 64-register budget: the launch bounds allow 128 (fewer resident threads, 8 loads in flight each).
// Chosen only by an explicit variant until a GPU run shows them faster (bench/gpu/rowwise.py).
#define TL_ROW_CACHED_KERNELS(NAME, MODE)                                                         \
  extern "C" __global__ void __launch_bounds__(256, 2) tl_##NAME##_rows_warp_cached_f32(         \
      const float* __restrict__ x, float* __restrict__ y, long long rows, long long C) {          \
    tl_softmax_fwd_cached<false, MODE, float, 8>(x, y, rows, C);                                  \
  }                                                                                               \
  extern "C" __global__ void __launch_bounds__(512, 1) tl_##NAME##_rows_cached_f32(              \
      const float* __restrict__ x, float* __restrict__ y, long long rows, long long C) {          \
    tl_softmax_fwd_cached<true, MODE, float, 8>(x, y, rows, C);                                   \
  }
TL_ROW_CACHED_KERNELS(softmax, 0)
TL_ROW_CACHED_KERNELS(log_softmax, 1)

#define TL_XENT_CACHED_KERNEL(NAME, BLOCK, BOUNDS)                                                \
  extern "C" __global__ void __launch_bounds__ BOUNDS NAME(                                       \
      const float* __restrict__ x, const long long* __restrict__ labels,                         \
      const float* __restrict__ grad, float* __restrict__ loss, float* __restrict__ dlogits,      \
      long long rows, long long C) {                                                              \
    tl_sparse_xent_cached<BLOCK, float, 8>(x, labels, grad, loss, dlogits, rows, C);              \
  }
TL_XENT_CACHED_KERNEL(tl_sparse_xent_fwd_bwd_rows_warp_cached_f32, false, (256, 2))
TL_XENT_CACHED_KERNEL(tl_sparse_xent_fwd_bwd_rows_cached_f32, true, (512, 1))

#define TL_LN_CACHED_KERNEL(NAME, BLOCK, BOUNDS)                                                  \
  extern "C" __global__ void __launch_bounds__ BOUNDS NAME(                                       \
      const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta, \
      float* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd, long long rows,   \
      long long C, float eps) {                                                                   \
    tl_layer_norm_fwd_cached<BLOCK, float, 8>(x, gamma, beta, y, mean, rstd, rows, C, eps);       \
  }
TL_LN_CACHED_KERNEL(tl_layer_norm_fwd_rows_warp_cached_f32, false, (256, 2))
TL_LN_CACHED_KERNEL(tl_layer_norm_fwd_rows_cached_f32, true, (512, 1))

// ------------------------------------------------------------------------------ column reductions
// Partial sums of two per-element quantities over a chunk of rows of an (M, C) array:
// block (bx, by), by a power of two; blockIdx.x picks bx columns, blockIdx.y a chunk of `rpc` rows.
// Writes pa/pb[blockIdx.y * C + c]. Dynamic smem: 2 * bx * by * sizeof(T).
template <class T, class F>
__device__ __forceinline__ void tl_col_partial2(long long M, long long C, long long rpc, T* __restrict__ pa,
                                                T* __restrict__ pb, F f) {
  TL_DYNAMIC_SMEM(T, sm);
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  T* sa = sm;
  T* sb = sm + bx * by;
  const long long c = (long long)blockIdx.x * bx + tx;
  const long long r0 = (long long)blockIdx.y * rpc;
  const long long r1 = M < r0 + rpc ? M : r0 + rpc;
  T a = T(0), b = T(0);
  if (c < C) {
    long long r = r0 + ty;
    for (; r + 3 * by < r1; r += 4 * by) {  // unrolled so the loads of four rows overlap
      f(r, c, a, b);
      f(r + by, c, a, b);
      f(r + 2 * by, c, a, b);
      f(r + 3 * by, c, a, b);
    }
    for (; r < r1; r += by) f(r, c, a, b);
  }
  sa[ty * bx + tx] = a;
  sb[ty * bx + tx] = b;
  __syncthreads();
  for (int s = by >> 1; s > 0; s >>= 1) {
    if (ty < s) {
      sa[ty * bx + tx] += sa[(ty + s) * bx + tx];
      sb[ty * bx + tx] += sb[(ty + s) * bx + tx];
    }
    __syncthreads();
  }
  if (ty == 0 && c < C) {
    pa[blockIdx.y * C + c] = sa[tx];
    pb[blockIdx.y * C + c] = sb[tx];
  }
}

// Sums (chunks, C) partials per column (double accumulation) -> out_a[C], out_b[C].
template <class T>
__device__ __forceinline__ void tl_col_sum2_final(const T* __restrict__ pa, const T* __restrict__ pb,
                                                  long long chunks, long long C, T* __restrict__ out_a,
                                                  T* __restrict__ out_b) {
  for (long long c = tl_global_thread_id(); c < C; c += tl_grid_stride()) {
    double a = 0.0, b = 0.0;
    for (long long k = 0; k < chunks; ++k) {
      a += (double)pa[k * C + c];
      b += (double)pb[k * C + c];
    }
    out_a[c] = (T)a;
    out_b[c] = (T)b;
  }
}

#define TL_COL_KERNELS(SUF, T)                                                                                 \
  /* layer norm: dgamma = sum_rows dy * xhat, dbeta = sum_rows dy (partials) */                                \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_layer_norm_bwd_params_partial_##SUF(                   \
      const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ mean,                          \
      const T* __restrict__ rstd, long long M, long long C, long long rpc, T* __restrict__ pdgamma,           \
      T* __restrict__ pdbeta) {                                                                                 \
    tl_col_partial2<T>(M, C, rpc, pdgamma, pdbeta, [&](long long r, long long c, T& a, T& b) {                  \
      const T g = dy[r * C + c];                                                                               \
      a += g * (x[r * C + c] - mean[r]) * rstd[r];                                                             \
      b += g;                                                                                                  \
    });                                                                                                        \
  }                                                                                                            \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_col_sum2_final_##SUF(const T* __restrict__ pa,           \
      const T* __restrict__ pb, long long chunks, long long C, T* __restrict__ out_a, T* __restrict__ out_b) { \
    tl_col_sum2_final<T>(pa, pb, chunks, C, out_a, out_b);                                                     \
  }                                                                                                            \
  /* batch norm statistics of (M, C): sums of x - x[0, c] and its square (partials) */                         \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_batch_norm_stats_partial_##SUF(                        \
      const T* __restrict__ x, long long M, long long C, long long rpc, T* __restrict__ ps1,                   \
      T* __restrict__ ps2) {                                                                                    \
    tl_col_partial2<T>(M, C, rpc, ps1, ps2, [&](long long r, long long c, T& a, T& b) {                         \
      const T d = x[r * C + c] - x[c];                                                                         \
      a += d;                                                                                                  \
      b += d * d;                                                                                              \
    });                                                                                                        \
  }                                                                                                            \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_batch_norm_stats_final_##SUF(const T* __restrict__ x,   \
      const T* __restrict__ ps1, const T* __restrict__ ps2, long long chunks, long long M, long long C,         \
      T* __restrict__ mean, T* __restrict__ var) {                                                              \
    for (long long c = tl_global_thread_id(); c < C; c += tl_grid_stride()) {                                  \
      double s1 = 0.0, s2 = 0.0;                                                                               \
      for (long long k = 0; k < chunks; ++k) {                                                                 \
        s1 += (double)ps1[k * C + c];                                                                          \
        s2 += (double)ps2[k * C + c];                                                                          \
      }                                                                                                        \
      const double m1 = s1 / (double)M;                                                                        \
      const double v = s2 / (double)M - m1 * m1;                                                               \
      mean[c] = (T)((double)x[c] + m1);                                                                        \
      var[c] = (T)(v > 0.0 ? v : 0.0);                                                                         \
    }                                                                                                          \
  }                                                                                                            \
  /* batch norm backward: dbeta = sum dy, dgamma = sum dy * xhat (partials) */                                 \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_batch_norm_bwd_partial_##SUF(                          \
      const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ mean,                          \
      const T* __restrict__ rstd, long long M, long long C, long long rpc, T* __restrict__ pdbeta,            \
      T* __restrict__ pdgamma) {                                                                                \
    tl_col_partial2<T>(M, C, rpc, pdbeta, pdgamma, [&](long long r, long long c, T& a, T& b) {                  \
      const T g = dy[r * C + c];                                                                               \
      a += g;                                                                                                  \
      b += g * (x[r * C + c] - mean[c]) * rstd[c];                                                             \
    });                                                                                                        \
  }                                                                                                            \
  /* dx = gamma * rstd * (dy - dbeta/M - xhat * dgamma/M) (training-mode batch statistics) */                 \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_batch_norm_bwd_dx_##SUF(const T* __restrict__ dy,       \
      const T* __restrict__ x, const T* __restrict__ mean, const T* __restrict__ rstd,                         \
      const T* __restrict__ gamma, const T* __restrict__ dbeta, const T* __restrict__ dgamma, long long M,     \
      long long C, T* __restrict__ dx) {                                                                        \
    const long long n = M * C;                                                                                 \
    const T invM = T(1) / T(M);                                                                                \
    for (long long i = tl_global_thread_id(); i < n; i += tl_grid_stride()) {                                  \
      const long long c = i % C;                                                                               \
      const T rs = rstd[c];                                                                                    \
      const T xhat = (x[i] - mean[c]) * rs;                                                                    \
      const T g = gamma ? gamma[c] : T(1);                                                                     \
      dx[i] = g * rs * (dy[i] - dbeta[c] * invM - xhat * dgamma[c] * invM);                                    \
    }                                                                                                          \
  }

TL_COL_KERNELS(f32, float)
TL_COL_KERNELS(f64, double)
