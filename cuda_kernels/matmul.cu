// Matrix multiplication kernels: C[b] = A[b] @ B[b].
//
// Every operand is described by a layout, not a transpose flag: A(m, k) sits at
// A[m*lda + k] when a_kmajor (row-major M x K, i.e. not transposed) and at
// A[k*lda + m] otherwise; B(k, n) sits at B[k*ldb + n] unless b_kmajor, then at
// B[n*ldb + k].  The launcher maps transpose flags and input strides onto this,
// so transposed and sliced inputs need no copy.  C is a fresh row-major M x N.
// Batches: gridDim.z walks b = outer*inner + inner_idx with per-operand strides
// (0 = broadcast).
#include "gemm_common.cuh"

using tl_gemm::StridedLoader;
using tl_gemm::StridedStorer;
using tl_gemm::TileCfg;

// Split-K (SIMT kernels only): gridDim.z walks z = b * splits + split; split s
// reduces k in [s*k_chunk, min(K, (s+1)*k_chunk)) into C + (s*batch + b)*M*N,
// a [splits, batch, M, N] workspace the launcher sums (splits == 1: C itself).
template <class Cfg, bool AKM, bool BKM>
__device__ __forceinline__ void sgemm_body(float* smem, TL_MM_PARAMS(float, float), int splits,
                                           int k_chunk) {
  const int m0 = blockIdx.y * Cfg::BM, n0 = blockIdx.x * Cfg::BN;
  for (int z = blockIdx.z; z < batch * splits; z += gridDim.z) {
    const int b = z / splits, sp = z % splits;
    const int k0 = sp * k_chunk, k1 = min(K, k0 + k_chunk);
    StridedLoader<AKM> al{A + tl_gemm::batch_offset(b, inner, sa_o, sa_i), M, k1, lda,
                          vec_a != 0};
    // B(k, n): the loader's "rows" are n, its "cols" k; BKM means k contiguous.
    StridedLoader<BKM> bl{B + tl_gemm::batch_offset(b, inner, sb_o, sb_i), N, k1, ldb,
                          vec_b != 0};
    StridedStorer cs{C + ((long long)sp * batch + b) * M * N, M, N, N, vec_c != 0};
    tl_gemm::gemm_block<Cfg>(al, bl, cs, m0, n0, k0, k1, smem);
    __syncthreads();
  }
}

// One kernel per tile shape; the four operand layouts are separate template
// instantiations chosen by a uniform branch.  Shared memory is declared here,
// once, so the instantiations share it.
#define TL_SGEMM_KERNEL(NAME, CFG)                                                       \
  extern "C" __global__ void __launch_bounds__(CFG::NT, CFG::MIN_BLOCKS)                  \
      NAME(TL_MM_PARAMS(float, float), int splits, int k_chunk) {                          \
    __shared__ float4 smem4[CFG::SMEM_FLOATS / 4]; /* float4: 16-byte alignment */       \
    float* smem = reinterpret_cast<float*>(smem4);                                        \
    if (a_kmajor) {                                                                       \
      if (b_kmajor)                                                                       \
        sgemm_body<CFG, true, true>(smem, TL_MM_ARGS, splits, k_chunk);                   \
      else                                                                                \
        sgemm_body<CFG, true, false>(smem, TL_MM_ARGS, splits, k_chunk);                  \
    } else {                                                                              \
      if (b_kmajor)                                                                       \
        sgemm_body<CFG, false, true>(smem, TL_MM_ARGS, splits, k_chunk);                  \
      else                                                                                \
        sgemm_body<CFG, false, false>(smem, TL_MM_ARGS, splits, k_chunk);                 \
    }                                                                                     \
  }

// 128x128x8 block, 256 threads, 64x32 warp tile, 8x8 per thread.
typedef TileCfg<128, 128, 8, 64, 32> Cfg128;
// 64x64x16 block, 128 threads, 32x32 warp tile, 4x8 per thread (small / skinny).
typedef TileCfg<64, 64, 16, 32, 32> Cfg64;

// The 128x128 tile 16 deep (the default big tile since the H200 runs) (half the barriers and load rounds per FLOP, twice the
// staged loads in registers); chosen only by an explicit variant until a GPU run shows it faster.
typedef TileCfg<128, 128, 16, 64, 32> Cfg128K16;

TL_SGEMM_KERNEL(tl_matmul_f32_128x128, Cfg128)
TL_SGEMM_KERNEL(tl_matmul_f32_64x64, Cfg64)
TL_SGEMM_KERNEL(tl_matmul_f32_128x128k16, Cfg128K16)

// y[b, m] = sum_k A(m, k) x(k), x(k) at x[k*incx]; 32 rows per 256-thread block.
// a_kmajor (long contiguous rows): each warp owns 4 rows, lanes stride k, warp
// shuffle reduction.  Otherwise lane l owns row r0 + l (coalesced across the
// warp), the 8 warps split k and combine through shared memory.
// Used for N == 1 and, on the transposed problem, for M == 1.
extern "C" __global__ void __launch_bounds__(256, 1)
    tl_matvec_f32(const float* __restrict__ A, const float* __restrict__ x,
                  float* __restrict__ y, int M, int K, int lda, int incx, int a_kmajor,
                  int batch, int inner, long long sa_o, long long sa_i, long long sx_o,
                  long long sx_i) {
  __shared__ float red[8][33];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int r0 = blockIdx.x * 32;
  for (int b = blockIdx.z; b < batch; b += gridDim.z) {
    const float* Ab = A + tl_gemm::batch_offset(b, inner, sa_o, sa_i);
    const float* xb = x + tl_gemm::batch_offset(b, inner, sx_o, sx_i);
    float* yb = y + (long long)b * M;
    if (a_kmajor) {
      for (int j = 0; j < 4; ++j) {
        const int m = r0 + warp * 4 + j;
        float s = 0.f;
        if (m < M) {
          const float* r = Ab + (long long)m * lda;
          for (int k = lane; k < K; k += 32) s += r[k] * xb[(long long)k * incx];
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (lane == 0 && m < M) yb[m] = s;
      }
    } else {
      const int m = r0 + lane;
      float s = 0.f;
      if (m < M)
        for (int k = warp; k < K; k += 8) s += Ab[(long long)k * lda + m] * xb[(long long)k * incx];
      red[warp][lane] = s;
      __syncthreads();
      if (warp == 0 && m < M) {
        float t = 0.f;
#pragma unroll
        for (int i = 0; i < 8; ++i) t += red[i][lane];
        yb[m] = t;
      }
      __syncthreads();
    }
  }
}

// float64: plain shared-memory tiled kernel, 64x64 block, 16 deep, 256 threads,
// 4x4 per thread.  Fully strided operands: A(m,k) = A[m*sam + k*sak].
extern "C" __global__ void __launch_bounds__(256)
    tl_matmul_f64_tiled(const double* __restrict__ A, const double* __restrict__ B,
                        double* __restrict__ C, int M, int N, int K, long long sam,
                        long long sak, long long sbk, long long sbn, int batch, int inner,
                        long long sa_o, long long sa_i, long long sb_o, long long sb_i) {
  __shared__ double As[16][64 + 1];
  __shared__ double Bs[16][64 + 1];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int m0 = blockIdx.y * 64, n0 = blockIdx.x * 64;
  for (int b = blockIdx.z; b < batch; b += gridDim.z) {
    const double* Ab = A + tl_gemm::batch_offset(b, inner, sa_o, sa_i);
    const double* Bb = B + tl_gemm::batch_offset(b, inner, sb_o, sb_i);
    double acc[4][4];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) acc[i][j] = 0.0;
    for (int k0 = 0; k0 < K; k0 += 16) {
      for (int e = threadIdx.x; e < 16 * 64; e += 256) {
        // A: consecutive threads walk m when A is m-contiguous, else k.
        int kk, mm;
        if (sak == 1) { kk = e % 16; mm = e / 16; } else { mm = e % 64; kk = e / 64; }
        int m = m0 + mm, k = k0 + kk;
        As[kk][mm] = (m < M && k < K) ? Ab[m * sam + k * sak] : 0.0;
        int nn;
        if (sbk == 1) { kk = e % 16; nn = e / 16; } else { nn = e % 64; kk = e / 64; }
        int n = n0 + nn;
        k = k0 + kk;
        Bs[kk][nn] = (n < N && k < K) ? Bb[k * sbk + n * sbn] : 0.0;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < 16; ++kk) {
        double a[4], bb[4];
        for (int i = 0; i < 4; ++i) a[i] = As[kk][ty + 16 * i];
        for (int j = 0; j < 4; ++j) bb[j] = Bs[kk][tx + 16 * j];
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * bb[j];
      }
      __syncthreads();
    }
    double* Cb = C + (long long)b * M * N;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        int m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
        if (m < M && n < N) Cb[(long long)m * N + n] = acc[i][j];
      }
  }
}

// ---------------------------------------------------------------------------
// Tensor-core kernels (sm_80+): mma.sync + ldmatrix + 3-stage cp.async, through mma.cuh
// (one PTX instruction each on the GPU, the emulator's model of it on the host).
// ---------------------------------------------------------------------------
#include "tc16.cuh"

namespace tl_tc {

// 128x256 block, 8 warps as 2 x 4, 64x64 per warp (half the ldmatrix traffic per
// mma), 3 stages (92160 B), one block per SM (4 stages spill on sm_80).
using Tc16Wide = Tc16Cfg<128, 256, 2, 4, 3>;
static_assert(Tc16Default::SMEM_BYTES == 61440 && Tc16Wide::SMEM_BYTES == 92160, "smem sizes");

// tf32 tiles: 128x128 block, BK = 16 floats, pitches 20 and 136 floats (conflict free for
// the per-lane fragment loads), 3 stages.
constexpr int BM = 128, BN = 128, STAGES = 3;
constexpr int BK32 = 16, KP32 = BK32 + 4, RP32 = BM + 8, TILE32 = BM * KP32;
static_assert(BK32 * RP32 <= TILE32, "tile sizes");

// tc16_body's main loop is tc16.cuh's tc16_mainloop written out: kept as it was when the
// kernels were verified on a GPU (routing it through the shared loop changes the generated
// code); move it onto tc16_mainloop after the next GPU run has checked the result.
template <class Cfg, bool BF16, bool AKM, bool BKM>
__device__ __forceinline__ void tc16_body(const unsigned short* __restrict__ A,
                                          const unsigned short* __restrict__ B,
                                          unsigned short* __restrict__ C, int M, int N, int K,
                                          int lda, int ldb, int a_kmajor, int b_kmajor,
                                          int vec_a, int vec_b, int vec_c, int batch, int inner,
                                          long long sa_o, long long sa_i, long long sb_o,
                                          long long sb_i) {
  constexpr int BM_ = Cfg::BM, BN_ = Cfg::BN, BK = Cfg::BK, KP = Cfg::KP, NT = Cfg::NT;
  constexpr int ST = Cfg::STAGES, MI = Cfg::MI, NJ = Cfg::NJ, NI = 2 * NJ;
  constexpr int STAGE = Cfg::TILE_A + Cfg::TILE_B;
  TL_DYNAMIC_SMEM(unsigned short, sm);
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  constexpr int WARPS_M = BM_ / Cfg::WTM;
  const int wm = (warp % WARPS_M) * Cfg::WTM, wn = (warp / WARPS_M) * Cfg::WTN;
  const int m0 = blockIdx.y * BM_, n0 = blockIdx.x * BN_;
  const int g = lane / 4, t4 = lane % 4, li = lane / 8, lr = lane % 8;
  constexpr bool akm = AKM, bkm = BKM;
  const int nk = (K + BK - 1) / BK;

  for (int b = blockIdx.z; b < batch; b += gridDim.z) {
    const unsigned short* Ab = A + tl_gemm::batch_offset(b, inner, sa_o, sa_i);
    const unsigned short* Bb = B + tl_gemm::batch_offset(b, inner, sb_o, sb_i);
    float acc[MI][NI][4];
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
      for (int j = 0; j < NI; ++j)
#pragma unroll
        for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.f;

#pragma unroll
    for (int s = 0; s < ST - 1; ++s) {
      if (s < nk) {
        unsigned short* S = sm + s * STAGE;
        load_tile<unsigned short, BK, KP, Cfg::RPA, BM_, NT>(S, Ab, m0, s * BK, M, K, lda, akm,
                                                             vec_a != 0, tid);
        load_tile<unsigned short, BK, KP, Cfg::RPB, BN_, NT>(S + Cfg::TILE_A, Bb, n0, s * BK, N, K,
                                                             ldb, bkm, vec_b != 0, tid);
      }
      tl_cp_async_commit();
    }

    for (int t = 0; t < nk; ++t) {
      tl_cp_async_wait<ST - 2>();
      __syncthreads();
      {
        const int tn = t + ST - 1;
        if (tn < nk) {
          unsigned short* S = sm + (tn % ST) * STAGE;
          load_tile<unsigned short, BK, KP, Cfg::RPA, BM_, NT>(S, Ab, m0, tn * BK, M, K, lda, akm,
                                                               vec_a != 0, tid);
          load_tile<unsigned short, BK, KP, Cfg::RPB, BN_, NT>(S + Cfg::TILE_A, Bb, n0, tn * BK, N,
                                                               K, ldb, bkm, vec_b != 0, tid);
        }
        tl_cp_async_commit();
      }
      const unsigned short* As = sm + (t % ST) * STAGE;
      const unsigned short* Bs = As + Cfg::TILE_A;
#pragma unroll
      for (int kk = 0; kk < BK; kk += 16) {
        unsigned af[MI][4], bf[NI][2];
#pragma unroll
        for (int mi = 0; mi < MI; ++mi) {
          if (akm) {
            const int row = wm + mi * 16 + (lane % 16), col = kk + (lane / 16) * 8;
            tl_ldsm_x4(af[mi], tl_smem_addr(As + row * KP + col));
          } else {
            const int krow = kk + lr + (li / 2) * 8, mcol = wm + mi * 16 + (li % 2) * 8;
            tl_ldsm_x4_t(af[mi], tl_smem_addr(As + krow * Cfg::RPA + mcol));
          }
        }
#pragma unroll
        for (int nj = 0; nj < NJ; ++nj) {
          unsigned r[4];
          if (bkm) {
            const int nrow = wn + nj * 16 + lr + (li / 2) * 8, kcol = kk + (li % 2) * 8;
            tl_ldsm_x4(r, tl_smem_addr(Bs + nrow * KP + kcol));
          } else {
            const int krow = kk + lr + (li % 2) * 8, ncol = wn + nj * 16 + (li / 2) * 8;
            tl_ldsm_x4_t(r, tl_smem_addr(Bs + krow * Cfg::RPB + ncol));
          }
          bf[2 * nj][0] = r[0];
          bf[2 * nj][1] = r[1];
          bf[2 * nj + 1][0] = r[2];
          bf[2 * nj + 1][1] = r[3];
        }
#pragma unroll
        for (int mi = 0; mi < MI; ++mi)
#pragma unroll
          for (int ni = 0; ni < NI; ++ni) tl_mma16816<BF16>(acc[mi][ni], af[mi], bf[ni][0], bf[ni][1]);
      }
    }
    tl_cp_async_wait<0>();
    __syncthreads();

    unsigned short* Cb = C + (long long)b * M * N;
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
      for (int ni = 0; ni < NI; ++ni)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int row = m0 + wm + mi * 16 + g + h * 8;
          const int col = n0 + wn + ni * 8 + t4 * 2;
          if (row >= M) continue;
          const unsigned short lo = tl_f2bits<BF16>(acc[mi][ni][2 * h]);
          const unsigned short hi = tl_f2bits<BF16>(acc[mi][ni][2 * h + 1]);
          unsigned short* q = Cb + (long long)row * N + col;
          if (vec_c && col + 1 < N) {
            *reinterpret_cast<unsigned*>(q) = (unsigned)lo | ((unsigned)hi << 16);
          } else {
            if (col < N) q[0] = lo;
            if (col + 1 < N) q[1] = hi;
          }
        }
  }
}

}  // namespace tl_tc

namespace tl_tc {
template <bool AKM, bool BKM>
__device__ __forceinline__ void tf32_body(TL_MM_PARAMS(float, float)) {
  TL_DYNAMIC_SMEM(float, sm);
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int wm = (warp % 2) * 64, wn = (warp / 2) * 32;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const int g = lane / 4, t4 = lane % 4;
  constexpr bool akm = AKM, bkm = BKM;
  const int nk = (K + BK32 - 1) / BK32;

  for (int b = blockIdx.z; b < batch; b += gridDim.z) {
    const float* Ab = A + tl_gemm::batch_offset(b, inner, sa_o, sa_i);
    const float* Bb = B + tl_gemm::batch_offset(b, inner, sb_o, sb_i);
    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
      if (s < nk) {
        float* S = sm + s * 2 * TILE32;
        load_tile<float, BK32, KP32, RP32, BM, 256>(S, Ab, m0, s * BK32, M, K, lda, akm, vec_a != 0, tid);
        load_tile<float, BK32, KP32, RP32, BM, 256>(S + TILE32, Bb, n0, s * BK32, N, K, ldb, bkm,
                                           vec_b != 0, tid);
      }
      tl_cp_async_commit();
    }
    for (int t = 0; t < nk; ++t) {
      tl_cp_async_wait<STAGES - 2>();
      __syncthreads();
      {
        const int tn = t + STAGES - 1;
        if (tn < nk) {
          float* S = sm + (tn % STAGES) * 2 * TILE32;
          load_tile<float, BK32, KP32, RP32, BM, 256>(S, Ab, m0, tn * BK32, M, K, lda, akm, vec_a != 0,
                                             tid);
          load_tile<float, BK32, KP32, RP32, BM, 256>(S + TILE32, Bb, n0, tn * BK32, N, K, ldb, bkm,
                                             vec_b != 0, tid);
        }
        tl_cp_async_commit();
      }
      const float* As = sm + (t % STAGES) * 2 * TILE32;
      const float* Bs = As + TILE32;
#pragma unroll
      for (int kk = 0; kk < BK32; kk += 8) {
        unsigned af[4][4], bf[4][2];
#pragma unroll
        for (int mi = 0; mi < 4; ++mi) {
          const int r = wm + mi * 16 + g;
#pragma unroll
          for (int q = 0; q < 4; ++q) {
            const int rr = r + (q & 1) * 8, kq = kk + t4 + (q >> 1) * 4;
            af[mi][q] = tl_to_tf32(akm ? As[rr * KP32 + kq] : As[kq * RP32 + rr]);
          }
        }
#pragma unroll
        for (int ni = 0; ni < 4; ++ni) {
          const int n = wn + ni * 8 + g;
#pragma unroll
          for (int q = 0; q < 2; ++q) {
            const int kq = kk + t4 + q * 4;
            bf[ni][q] = tl_to_tf32(bkm ? Bs[n * KP32 + kq] : Bs[kq * RP32 + n]);
          }
        }
#pragma unroll
        for (int mi = 0; mi < 4; ++mi)
#pragma unroll
          for (int ni = 0; ni < 4; ++ni) tl_mma1688_tf32(acc[mi][ni], af[mi], bf[ni][0], bf[ni][1]);
      }
    }
    tl_cp_async_wait<0>();
    __syncthreads();

    float* Cb = C + (long long)b * M * N;
#pragma unroll
    for (int mi = 0; mi < 4; ++mi)
#pragma unroll
      for (int ni = 0; ni < 4; ++ni)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int row = m0 + wm + mi * 16 + g + h * 8;
          const int col = n0 + wn + ni * 8 + t4 * 2;
          if (row >= M) continue;
          float* q = Cb + (long long)row * N + col;
          if (vec_c && col + 1 < N) {
            *reinterpret_cast<float2*>(q) = make_float2(acc[mi][ni][2 * h], acc[mi][ni][2 * h + 1]);
          } else {
            if (col < N) q[0] = acc[mi][ni][2 * h];
            if (col + 1 < N) q[1] = acc[mi][ni][2 * h + 1];
          }
        }
  }
}
template <bool AKM, bool BKM>
__device__ __forceinline__ void f16_body(TL_MM_PARAMS(unsigned short, unsigned short)) {
  tc16_body<Tc16Default, false, AKM, BKM>(TL_MM_ARGS);
}
template <bool AKM, bool BKM>
__device__ __forceinline__ void bf16_body(TL_MM_PARAMS(unsigned short, unsigned short)) {
  tc16_body<Tc16Default, true, AKM, BKM>(TL_MM_ARGS);
}

}  // namespace tl_tc

// f16/bf16 fit 128 registers without spilling, so two 256-thread blocks share an SM
// (2 x 60 KB smem) on sm_90; sm_80's ptxas spills at 128, so one block there.  The
// tf32 kernel spills at 128 on both and keeps one.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define TL_TC16_MIN_BLOCKS 2
#else
#define TL_TC16_MIN_BLOCKS 1
#endif

// Layout dispatch: a uniform branch onto one of four template instantiations.
#define TL_TC_DISPATCH(BODY)                                                  \
  if (a_kmajor) {                                                             \
    if (b_kmajor) BODY<true, true>(TL_MM_ARGS);                               \
    else BODY<true, false>(TL_MM_ARGS);                                       \
  } else {                                                                    \
    if (b_kmajor) BODY<false, true>(TL_MM_ARGS);                              \
    else BODY<false, false>(TL_MM_ARGS);                                      \
  }

// C (f16) = A (f16) @ B (f16), fp32 accumulation.  Dynamic smem: 61440 bytes.
extern "C" __global__ void __launch_bounds__(256, TL_TC16_MIN_BLOCKS)
    tl_matmul_f16_tc(TL_MM_PARAMS(unsigned short, unsigned short)) {
  TL_TC_DISPATCH(tl_tc::f16_body)
}

// C (bf16) = A (bf16) @ B (bf16), fp32 accumulation.  Dynamic smem: 61440 bytes.
extern "C" __global__ void __launch_bounds__(256, TL_TC16_MIN_BLOCKS)
    tl_matmul_bf16_tc(TL_MM_PARAMS(unsigned short, unsigned short)) {
  TL_TC_DISPATCH(tl_tc::bf16_body)
}

// 128x256 block, 64x64 warp tiles, 3 stages, one block per SM; dynamic smem
// 92160 bytes.  One kernel per operand layout (suffix _a{k,m}b{k,n}: A k-major or m-major, B
// k-major or n-major; the layout arguments are then ignored): behind a run-time layout branch the
// four bodies need more than 255 registers and spill, each alone fits.  Benchmarked against the
// defaults by bench/gpu/matmul_conv.py and chosen only by an explicit `variant=` until a GPU run
// shows them faster.
#define TL_TC_WIDE_KERNEL(NAME, BF16, AK, BK)                                              \
  extern "C" __global__ void __launch_bounds__(256, 1)                                      \
      NAME(TL_MM_PARAMS(unsigned short, unsigned short)) {                                  \
    tl_tc::tc16_body<tl_tc::Tc16Wide, BF16, AK, BK>(TL_MM_ARGS);                            \
  }
TL_TC_WIDE_KERNEL(tl_matmul_f16_tc_128x256_akbk, false, true, true)
TL_TC_WIDE_KERNEL(tl_matmul_f16_tc_128x256_akbn, false, true, false)
TL_TC_WIDE_KERNEL(tl_matmul_f16_tc_128x256_ambk, false, false, true)
TL_TC_WIDE_KERNEL(tl_matmul_f16_tc_128x256_ambn, false, false, false)
TL_TC_WIDE_KERNEL(tl_matmul_bf16_tc_128x256_akbk, true, true, true)
TL_TC_WIDE_KERNEL(tl_matmul_bf16_tc_128x256_akbn, true, true, false)
TL_TC_WIDE_KERNEL(tl_matmul_bf16_tc_128x256_ambk, true, false, true)
TL_TC_WIDE_KERNEL(tl_matmul_bf16_tc_128x256_ambn, true, false, false)

// C (f32) = A (f32) @ B (f32) with operands rounded to TF32 (opt-in).
// Fragments are read from shared memory per lane (ldmatrix is 16-bit only).
extern "C" __global__ void __launch_bounds__(256) tl_matmul_tf32_tc(TL_MM_PARAMS(float, float)) {
  TL_TC_DISPATCH(tl_tc::tf32_body)
}

