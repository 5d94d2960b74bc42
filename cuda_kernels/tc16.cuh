// The 16-bit (f16/bf16) tensor-core GEMM core shared by matmul.cu and conv.cu: tile
// configurations, the cp.async tile loader, and the multistage mma.sync main loop.
// What differs between a matmul and an implicit-GEMM convolution is only how a stage's
// A and B tiles are fetched from global memory, passed to the main loop as a callable.
#pragma once

#include "mma.cuh"

namespace tl_tc {

// A 16-bit (f16/bf16) tensor-core tile configuration: a BM x BN block of WARPS_M x WARPS_N warps,
// each computing a (BM / WARPS_M) x (BN / WARPS_N) warp tile with m16n8k16 mma.sync, fed by a
// STAGES-deep cp.async ring of BK = 32 operand tiles.  k-major tiles are [row][k] with pitch
// BK + 8 halves (80 B), the others [k][row] with pitch rows + 8; both pitches put the eight
// 16-byte rows of an ldmatrix on distinct bank groups.
template <int BM_, int BN_, int WARPS_M, int WARPS_N, int STAGES_>
struct Tc16Cfg {
  static constexpr int BM = BM_, BN = BN_, STAGES = STAGES_;
  static constexpr int NT = 32 * WARPS_M * WARPS_N;
  static constexpr int WTM = BM / WARPS_M, WTN = BN / WARPS_N;  // warp tile
  static constexpr int MI = WTM / 16, NJ = WTN / 16;            // ldmatrix.x4 per operand per k16
  static constexpr int BK = 32, KP = BK + 8, RPA = BM + 8, RPB = BN + 8;
  static constexpr int TILE_A = BM * KP > BK * RPA ? BM * KP : BK * RPA;
  static constexpr int TILE_B = BN * KP > BK * RPB ? BN * KP : BK * RPB;
  static constexpr int SMEM_BYTES = STAGES * (TILE_A + TILE_B) * 2;
  static_assert(WTM % 16 == 0 && WTN % 16 == 0, "warp tile");
};
// The default: 128x128 block, 8 warps as 2 (M) x 4 (N), 64x32 per warp, 3 stages (61440 B).
// 4 stages or BK = 64 would spill at the 128-register budget of two blocks per SM.
using Tc16Default = Tc16Cfg<128, 128, 2, 4, 3>;
// Load one ROWS x BK operand tile (rows = M for A, N for B) into stage memory S with NT threads.
// E = element type (unsigned short for f16/bf16 bits, float for tf32),
// CH = elements per 16-byte chunk.  Chunks past the matrix edge are partially
// or fully zero-filled; without 16-byte alignment (vec == false) the chunk is
// copied element by element through registers instead.
template <typename E, int BK, int KP, int RP, int ROWS, int NT>
__device__ __forceinline__ void load_tile(E* S, const E* G, int r0, int k0, int R, int Kd, int ld,
                                          bool kmajor, bool vec, int tid) {
  constexpr int CH = 16 / sizeof(E);
  constexpr int NCH = ROWS * BK / CH / NT;
  static_assert(NCH * CH * NT == ROWS * BK, "tile chunks per thread");
#pragma unroll
  for (int j = 0; j < NCH; ++j) {
    const int c = tid + j * NT;
    int r, k, valid;
    E* dst;
    const E* src;
    if (kmajor) {
      r = c / (BK / CH);
      k = (c % (BK / CH)) * CH;
      const int gr = r0 + r, gk = k0 + k;
      valid = gr < R ? min(max(Kd - gk, 0), CH) : 0;
      src = G + (long long)gr * ld + gk;
      dst = S + r * KP + k;
    } else {
      k = c / (ROWS / CH);
      r = (c % (ROWS / CH)) * CH;
      const int gr = r0 + r, gk = k0 + k;
      valid = gk < Kd ? min(max(R - gr, 0), CH) : 0;
      src = G + (long long)gk * ld + gr;
      dst = S + k * RP + r;
    }
    if (vec) {
      tl_cp_async16(tl_smem_addr(dst), valid > 0 ? src : G, valid * (int)sizeof(E));
    } else {
#pragma unroll
      for (int i = 0; i < CH; ++i) dst[i] = i < valid ? src[i] : E(0);
    }
  }
}

// The main loop: acc (zeroed here) += A[m0:m0+BM, :] @ B[:, n0:n0+BN] over nk tiles of BK,
// through a STAGES-deep cp.async ring in dynamic shared memory `sm`.  load_tiles(S, k0)
// issues the copies of the A tile (rows x BK at S, layout AKM) and the B tile (at
// S + TILE_A, layout BKM) of k0..k0+BK into stage S; (wm, wn) is this warp's tile origin.
template <class Cfg, bool BF16, bool AKM, bool BKM, class LoadTiles>
__device__ __forceinline__ void tc16_mainloop(float (&acc)[Cfg::MI][2 * Cfg::NJ][4],
                                              unsigned short* sm, int nk, int wm, int wn, int lane,
                                              LoadTiles load_tiles) {
  constexpr int BK = Cfg::BK, KP = Cfg::KP, ST = Cfg::STAGES, MI = Cfg::MI, NJ = Cfg::NJ;
  constexpr int NI = 2 * NJ, STAGE = Cfg::TILE_A + Cfg::TILE_B;
  constexpr bool akm = AKM, bkm = BKM;
  const int li = lane / 8, lr = lane % 8;
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.f;

#pragma unroll
  for (int s = 0; s < ST - 1; ++s) {
    if (s < nk) load_tiles(sm + s * STAGE, s * BK);
    tl_cp_async_commit();
  }

  for (int t = 0; t < nk; ++t) {
    tl_cp_async_wait<ST - 2>();
    __syncthreads();
    {
      const int tn = t + ST - 1;
      if (tn < nk) load_tiles(sm + (tn % ST) * STAGE, tn * BK);
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

}

}  // namespace tl_tc
