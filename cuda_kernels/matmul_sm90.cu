// Hopper (sm_90a) tensor-core matmul: C[b] = A[b] @ B[b] for float16 / bfloat16 with wgmma.
//
// Next to matmul.cu's mma.sync kernels (the 0.8x-of-cuBLAS step of the GPU-backend
// targets): a 128 x 256 block tile of two warpgroups, each computing 64 x 256 with
// wgmma.m64n256k16 from shared memory, fed by a 4-stage cp.async ring of 64-deep K tiles in the
// 128-byte-swizzled layouts the descriptors describe (wgmma.cuh). One kernel per operand layout
// (suffix _a{k,m}b{k,n}, as matmul.cu's 128x256 kernels): A k-major (A(m, k) at A[m*lda + k])
// or m-major (A[k*lda + m]), B k-major (B(k, n) at B[n*ldb + k]) or n-major (B[k*ldb + n]); an
// m- or n-major tile sets wgmma's transpose bit, so transposed operands need no copy. Every
// operand needs 16-byte rows along its contiguous dimension (lda, ldb and batch strides
// multiples of 8 elements, 16-byte aligned bases) and K a multiple of 8: the launcher
// (tensorlab/backend/cuda/kernels/matmul.py) checks this and copies an operand that falls short
// k-major first; the layout and vector arguments of TL_MM_PARAMS are then not read. C is a fresh
// row-major M x N per batch entry, written as f16/bf16 pairs when N is even (vec_c).
//
// Compiled for sm_90a only (wgmma is not in plain sm_90): tensorlab compiles this file through
// NVRTC itself with --gpu-architecture=sm_90a (kernels/_module.py, ARCH_SPECIFIC).
#include "gemm_common.cuh"
#include "wgmma.cuh"

namespace tl_wg {

constexpr int BM = 128, BN = 256, BK = 64, STAGES = 4, NT = 256;
constexpr int TILE_A = BM * BK * 2, TILE_B = BN * BK * 2;  // bytes per stage
constexpr int STAGE = TILE_A + TILE_B;                      // 49152, a multiple of 1024
// K tiles loaded ahead of the one being multiplied. Not STAGES - 1: the wgmma group of the
// previous tile may still be reading its stage (one group stays in flight), so the stage
// refilled at step t is the one of tile t - 2.
constexpr int LOOKAHEAD = STAGES - 2;
constexpr int SMEM_BYTES = STAGES * STAGE + 1024;  // + slack to start the ring on 1024 bytes
static_assert(SMEM_BYTES == 197632, "matmul.py's WGMMA_SMEM_BYTES");

// Tile layouts: k-major, or m/n-major with 64-element blocks 1024 bytes apart along M/N and
// 8-deep K groups one row of blocks apart (2 blocks for A's 128 rows, 4 for B's 256).
template <bool KMAJOR, int ROWS>
struct LayoutOf {
  using type = TlWgKMajor;
};
template <int ROWS>
struct LayoutOf<false, ROWS> {
  using type = TlWgLayout<true, 1024, ROWS / 64 * 1024>;
};

// Issue the cp.async copies of rows [r0, r0 + ROWS) x k [k0, k0 + 64) of an operand (R rows, K
// columns, pitch ld; k contiguous when k-major, rows contiguous otherwise) into the swizzled
// tile S of layout L; elements past the edges are zero-filled.
template <class L, int ROWS>
__device__ __forceinline__ void load_tile(unsigned char* S, const unsigned short* G, int r0,
                                          int k0, int R, int K, int ld, int tid) {
  constexpr int CHUNKS = ROWS * BK / 8;  // 16-byte chunks of 8 elements
  static_assert(CHUNKS % NT == 0, "tile chunks per thread");
#pragma unroll
  for (int j = 0; j < CHUNKS / NT; ++j) {
    const int c = tid + j * NT;
    int r, k, valid;
    const unsigned short* src;
    if (!L::MN) {  // a row's 64 K elements are 8 chunks
      r = c / (BK / 8);
      k = (c % (BK / 8)) * 8;
      const int gr = r0 + r, gk = k0 + k;
      valid = gr < R ? min(max(K - gk, 0), 8) : 0;
      src = G + (long long)gr * ld + gk;
    } else {  // a K row's ROWS elements are ROWS / 8 chunks
      k = c / (ROWS / 8);
      r = (c % (ROWS / 8)) * 8;
      const int gr = r0 + r, gk = k0 + k;
      valid = gk < K ? min(max(R - gr, 0), 8) : 0;
      src = G + (long long)gk * ld + gr;
    }
    tl_cp_async16(tl_smem_addr(S + L::offset(r, k)), valid > 0 ? src : G, valid * 2);
  }
}

template <bool BF16, bool AKM, bool BKM>
__device__ __forceinline__ void wgmma_body(TL_MM_PARAMS(unsigned short, unsigned short)) {
  using LA = typename LayoutOf<AKM, BM>::type;
  using LB = typename LayoutOf<BKM, BN>::type;
  TL_DYNAMIC_SMEM(unsigned char, raw);
  unsigned char* sm = raw + tl_wg_align_pad(raw);
  const int tid = threadIdx.x, wg = tid / 128, w = (tid % 128) / 32, lane = tid % 32;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const int nk = (K + BK - 1) / BK;
  const int a_wg = LA::offset(wg * 64, 0);  // this warpgroup's 64 rows of the A tile

  for (int b = blockIdx.z; b < batch; b += gridDim.z) {
    const unsigned short* Ab = A + tl_gemm::batch_offset(b, inner, sa_o, sa_i);
    const unsigned short* Bb = B + tl_gemm::batch_offset(b, inner, sb_o, sb_i);
    auto load_stage = [&](int t) {
      unsigned char* S = sm + (t % STAGES) * STAGE;
      load_tile<LA, BM>(S, Ab, m0, t * BK, M, K, lda, tid);
      load_tile<LB, BN>(S + TILE_A, Bb, n0, t * BK, N, K, ldb, tid);
    };
    float d[128];
#pragma unroll
    for (int i = 0; i < 128; ++i) d[i] = 0.f;

#pragma unroll
    for (int s = 0; s < LOOKAHEAD; ++s) {
      if (s < nk) load_stage(s);
      tl_cp_async_commit();
    }
    for (int t = 0; t < nk; ++t) {
      tl_cp_async_wait<LOOKAHEAD - 1>();  // this thread's copies of tile t have landed
      tl_fence_proxy_async();             // ... and are visible to wgmma's async proxy
      __syncthreads();                    // everyone's copies; wgmma of tile t - 2 retired
      if (t + LOOKAHEAD < nk) load_stage(t + LOOKAHEAD);
      tl_cp_async_commit();
      const unsigned char* St = sm + (t % STAGES) * STAGE;
      tl_wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < BK / 16; ++kk)
        tl_wgmma_m64n256k16<BF16, LA, LB>(d, tl_smem_addr(St + a_wg + kk * LA::K16_STEP),
                                          tl_smem_addr(St + TILE_A + kk * LB::K16_STEP));
      tl_wgmma_commit();
      tl_wgmma_wait<1>();  // keep this tile's group in flight, retire the previous one
    }
    tl_wgmma_wait<0>();
    tl_cp_async_wait<0>();
    __syncthreads();  // the next batch entry refills every stage

    unsigned short* Cb = C + (long long)b * M * N;
    const int row0 = m0 + wg * 64 + w * 16 + lane / 4, c0 = n0 + 2 * (lane % 4);
#pragma unroll
    for (int j = 0; j < 32; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = row0 + 8 * h, col = c0 + 8 * j;
        if (row >= M) continue;
        const unsigned short lo = tl_wg_f2bits<BF16>(d[4 * j + 2 * h]);
        const unsigned short hi = tl_wg_f2bits<BF16>(d[4 * j + 2 * h + 1]);
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

}  // namespace tl_wg

// C = A @ B in f16 / bf16 with fp32 accumulation, one kernel per operand layout. 256 threads,
// dynamic smem 197632 bytes.
#define TL_WGMMA_KERNEL(NAME, BF16, AK, BK_)                                               \
  extern "C" __global__ void __launch_bounds__(256, 1)                                      \
      NAME(TL_MM_PARAMS(unsigned short, unsigned short)) {                                  \
    tl_wg::wgmma_body<BF16, AK, BK_>(TL_MM_ARGS);                                           \
  }
TL_WGMMA_KERNEL(tl_matmul_f16_wgmma_akbk, false, true, true)
TL_WGMMA_KERNEL(tl_matmul_f16_wgmma_akbn, false, true, false)
TL_WGMMA_KERNEL(tl_matmul_f16_wgmma_ambk, false, false, true)
TL_WGMMA_KERNEL(tl_matmul_f16_wgmma_ambn, false, false, false)
TL_WGMMA_KERNEL(tl_matmul_bf16_wgmma_akbk, true, true, true)
TL_WGMMA_KERNEL(tl_matmul_bf16_wgmma_akbn, true, true, false)
TL_WGMMA_KERNEL(tl_matmul_bf16_wgmma_ambk, true, false, true)
TL_WGMMA_KERNEL(tl_matmul_bf16_wgmma_ambn, true, false, false)
