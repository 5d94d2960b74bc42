// Shared pieces of the GEMM-family kernels (matmul.cu, conv.cu).
//
// The SIMT core below is the classic SGEMM structure (block tile in shared
// memory, warp tile, 2-D register tile per thread, register-staged double
// buffering with one __syncthreads per K step).  What varies between matmul
// and the implicit-GEMM convolutions is only how a tile is gathered from global
// memory and how the result is stored, so those are small "loader"/"storer"
// structs passed as template arguments.
#pragma once

#ifndef TL_DEVICE_INLINE
#define TL_DEVICE_INLINE __device__ __forceinline__
#endif

// Shared parameter list of the matmul kernels (matmul.cu, matmul_sm90.cu): one launch plan's
// argument list fits them all.
#define TL_MM_PARAMS(TA, TC)                                                          \
  const TA *__restrict__ A, const TA *__restrict__ B, TC *__restrict__ C, int M, int N, \
      int K, int lda, int ldb, int a_kmajor, int b_kmajor, int vec_a, int vec_b,       \
      int vec_c, int batch, int inner, long long sa_o, long long sa_i, long long sb_o,  \
      long long sb_i

#define TL_MM_ARGS                                                                       \
  A, B, C, M, N, K, lda, ldb, a_kmajor, b_kmajor, vec_a, vec_b, vec_c, batch, inner, sa_o, \
      sa_i, sb_o, sb_i

namespace tl_gemm {

// BM x BN block tile, BK deep; warps tile the block as (BM/WM) x (BN/WN);
// inside a warp the 32 lanes form 8 (M) x 4 (N), each lane owning TMS x TNS
// sub-tiles of 4x4, spread 32 rows / 16 cols apart so that shared-memory reads
// are float4 and conflict free.
template <int BM_, int BN_, int BK_, int WM_, int WN_, int MIN_BLOCKS_ = 1>
struct TileCfg {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, WM = WM_, WN = WN_;
  static constexpr int MIN_BLOCKS = MIN_BLOCKS_;  // __launch_bounds__ min blocks per SM
  static constexpr int WARPS_M = BM / WM, WARPS_N = BN / WN;
  static constexpr int NT = WARPS_M * WARPS_N * 32;
  static constexpr int TMS = WM / 32;
  static constexpr int TNS = WN / 16;
  static constexpr int A_CHUNKS = BM * BK / 4 / NT;
  static constexpr int B_CHUNKS = BN * BK / 4 / NT;
  // +4 padding keeps float4 alignment and removes the 2-way conflict of the
  // transposing (k-major) shared stores.
  static constexpr int AS = BM + 4;
  static constexpr int BS = BN + 4;
  static constexpr int SMEM_FLOATS = 2 * BK * (AS + BS);
  static_assert(A_CHUNKS >= 1 && B_CHUNKS >= 1, "tile too small for thread count");
  static_assert(BM * BK % (4 * NT) == 0 && BN * BK % (4 * NT) == 0, "uneven loads");
};

// Loader contract (A side; B side is the same with m -> n):
//   bool kmajor;                         elements contiguous along k?
//   void load4(int m, int k, float r[4]) 4 elements starting at (m, k) along
//                                        the contiguous dimension, zero outside.

// Plain strided matrix.  (r, c) lives at p[r*ld + c] (KM: c contiguous) or at
// p[c*ld + r].  The layout is a template parameter so that each kernel
// instantiation carries no layout branches (fewer registers).
template <bool KM>
struct StridedLoader {
  const float* p;
  int rows, cols;  // logical extent: rows = M (or N), cols = K
  int ld;
  bool vec;  // base 16B aligned and ld % 4 == 0
  static constexpr bool kmajor = KM;

  TL_DEVICE_INLINE void load4(int r, int c, float (&v)[4]) const {
    // 4 consecutive c (KM) or 4 consecutive r
    const int lead = KM ? c : r, lead_n = KM ? cols : rows;
    const int other = KM ? r : c, other_n = KM ? rows : cols;
    if (other < other_n) {
      const float* q = p + (long long)other * ld + lead;
      if (vec && lead + 3 < lead_n) {
        float4 t = *reinterpret_cast<const float4*>(q);
        v[0] = t.x; v[1] = t.y; v[2] = t.z; v[3] = t.w;
      } else {
#pragma unroll
        for (int i = 0; i < 4; ++i) v[i] = (lead + i < lead_n) ? q[i] : 0.f;
      }
    } else {
#pragma unroll
      for (int i = 0; i < 4; ++i) v[i] = 0.f;
    }
  }
};

// Row-major output tile store: row m, columns n..n+3.
struct StridedStorer {
  float* p;
  int rows, cols, ld;
  bool vec;
  TL_DEVICE_INLINE void store4(int r, int c, const float (&v)[4]) const {
    if (r >= rows) return;
    float* q = p + (long long)r * ld + c;
    if (vec && c + 3 < cols) {
      *reinterpret_cast<float4*>(q) = make_float4(v[0], v[1], v[2], v[3]);
    } else {
#pragma unroll
      for (int i = 0; i < 4; ++i)
        if (c + i < cols) q[i] = v[i];
    }
  }
};

// Coordinates of the j-th load chunk of a thread inside an (R x BK) tile.
// kmajor: chunk = 4 consecutive k of one row; else 4 consecutive rows of one k.
template <int R, int BK>
TL_DEVICE_INLINE void chunk_coord(bool kmajor, int c, int& r, int& k) {
  if (kmajor) {
    r = c / (BK / 4);
    k = (c % (BK / 4)) * 4;
  } else {
    k = c / (R / 4);
    r = (c % (R / 4)) * 4;
  }
}

// Shared tile is stored k-major: S[k][r] with row pitch P.
template <int P>
TL_DEVICE_INLINE void store_chunk(float* S, bool kmajor, int r, int k, const float (&v)[4]) {
  if (kmajor) {
#pragma unroll
    for (int i = 0; i < 4; ++i) S[(k + i) * P + r] = v[i];
  } else {
    *reinterpret_cast<float4*>(S + k * P + r) = make_float4(v[0], v[1], v[2], v[3]);
  }
}

// C[m0:m0+BM, n0:n0+BN] = sum_{k in [k_begin, k_end)} A(m, k) B(k, n).
// smem must hold Cfg::SMEM_FLOATS floats, 16-byte aligned.
template <class Cfg, class AL, class BL, class CS>
TL_DEVICE_INLINE void gemm_block(const AL& al, const BL& bl, const CS& cs, int m0, int n0,
                                 int k_begin, int k_end, float* smem) {
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK;
  constexpr int AS = Cfg::AS, BS = Cfg::BS, NT = Cfg::NT;
  constexpr int TMS = Cfg::TMS, TNS = Cfg::TNS;
  float* As = smem;                 // [2][BK][AS]
  float* Bs = smem + 2 * BK * AS;   // [2][BK][BS]

  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  const int wm = (warp % Cfg::WARPS_M) * Cfg::WM;
  const int wn = (warp / Cfg::WARPS_M) * Cfg::WN;
  const int tm = (lane / 4) * 4;
  const int tn = (lane % 4) * 4;

  float acc[TMS * 4][TNS * 4];
#pragma unroll
  for (int i = 0; i < TMS * 4; ++i)
#pragma unroll
    for (int j = 0; j < TNS * 4; ++j) acc[i][j] = 0.f;

  float ra[Cfg::A_CHUNKS][4], rb[Cfg::B_CHUNKS][4];
  const int nk = (k_end - k_begin + BK - 1) / BK;

  auto load_global = [&](int k0) {
#pragma unroll
    for (int j = 0; j < Cfg::A_CHUNKS; ++j) {
      int r, k;
      chunk_coord<BM, BK>(al.kmajor, tid + j * NT, r, k);
      al.load4(m0 + r, k0 + k, ra[j]);
    }
#pragma unroll
    for (int j = 0; j < Cfg::B_CHUNKS; ++j) {
      int r, k;
      chunk_coord<BN, BK>(bl.kmajor, tid + j * NT, r, k);
      bl.load4(n0 + r, k0 + k, rb[j]);
    }
  };
  auto store_shared = [&](int buf) {
#pragma unroll
    for (int j = 0; j < Cfg::A_CHUNKS; ++j) {
      int r, k;
      chunk_coord<BM, BK>(al.kmajor, tid + j * NT, r, k);
      store_chunk<AS>(As + buf * BK * AS, al.kmajor, r, k, ra[j]);
    }
#pragma unroll
    for (int j = 0; j < Cfg::B_CHUNKS; ++j) {
      int r, k;
      chunk_coord<BN, BK>(bl.kmajor, tid + j * NT, r, k);
      store_chunk<BS>(Bs + buf * BK * BS, bl.kmajor, r, k, rb[j]);
    }
  };

  if (nk > 0) {
    load_global(k_begin);
    store_shared(0);
  }
  __syncthreads();

  for (int t = 0; t < nk; ++t) {
    const int buf = t & 1;
    if (t + 1 < nk) load_global(k_begin + (t + 1) * BK);
    const float* Ab = As + buf * BK * AS;
    const float* Bb = Bs + buf * BK * BS;
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float a[TMS * 4], b[TNS * 4];
#pragma unroll
      for (int s = 0; s < TMS; ++s) {
        float4 t4 = *reinterpret_cast<const float4*>(Ab + kk * AS + wm + s * 32 + tm);
        a[s * 4 + 0] = t4.x; a[s * 4 + 1] = t4.y; a[s * 4 + 2] = t4.z; a[s * 4 + 3] = t4.w;
      }
#pragma unroll
      for (int s = 0; s < TNS; ++s) {
        float4 t4 = *reinterpret_cast<const float4*>(Bb + kk * BS + wn + s * 16 + tn);
        b[s * 4 + 0] = t4.x; b[s * 4 + 1] = t4.y; b[s * 4 + 2] = t4.z; b[s * 4 + 3] = t4.w;
      }
#pragma unroll
      for (int i = 0; i < TMS * 4; ++i)
#pragma unroll
        for (int j = 0; j < TNS * 4; ++j) acc[i][j] += a[i] * b[j];
    }
    if (t + 1 < nk) store_shared(buf ^ 1);
    __syncthreads();
  }

#pragma unroll
  for (int s = 0; s < TMS; ++s)
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int u = 0; u < TNS; ++u) {
        float v[4] = {acc[s * 4 + i][u * 4 + 0], acc[s * 4 + i][u * 4 + 1],
                      acc[s * 4 + i][u * 4 + 2], acc[s * 4 + i][u * 4 + 3]};
        cs.store4(m0 + wm + s * 32 + tm + i, n0 + wn + u * 16 + tn, v);
      }
}

// Batch index -> element offsets: batch = outer x inner, each operand with its
// own (outer, inner) strides; stride 0 broadcasts.
TL_DEVICE_INLINE long long batch_offset(int b, int inner, long long s_outer, long long s_inner) {
  return (long long)(b / inner) * s_outer + (long long)(b % inner) * s_inner;
}

}  // namespace tl_gemm
