// Hopper warpgroup MMA building blocks (sm_90a): wgmma.mma_async m64n256k16 with f16/bf16
// operands read from shared memory through matrix descriptors, f32 accumulators in registers,
// and the fences that order it against ordinary shared-memory writes.
//
// Shared-memory operand layouts (128-byte swizzle, tiles starting on 1024-byte boundaries),
// described by TlWgLayout:
//  * K-major (an A stored M x K, a B stored N x K): rows of 64 16-bit K elements (128 bytes);
//    8 consecutive rows form a 1024-byte atom, atoms SBO = 1024 bytes apart.
//  * MN-major (an A stored K x M, a B stored K x N; wgmma's transpose bit): rows of 64 M (or N)
//    elements along K; atoms of 8 K-rows x 64 elements, LBO bytes apart along M/N and SBO bytes
//    apart along K.
// Inside an atom the 16-byte chunk c of row r sits at chunk position c ^ (r % 8): the hardware
// applies this XOR to address bits 4-6 from bits 7-9, so the descriptor of the next 16-deep K
// slice is the tile's start plus K16_STEP bytes.
//
// On the GPU each wrapper is one PTX instruction (the kernel must be compiled for sm_90a). Under
// the host emulator (TL_EMULATION) tl_wgmma_m64n256k16 maps onto cuda_emu.h's model, which reads
// the same swizzled layouts; the fences are no-ops there and the MMA completes when issued.
#pragma once

#include "cp_async.cuh"

// One operand tile's layout, as compile-time constants (see the top of this file).
template <bool MN_, int LBO_, int SBO_>
struct TlWgLayout {
  static constexpr bool MN = MN_;
  static constexpr int LBO = LBO_, SBO = SBO_;
  // bytes from the start of the tile to its next 16-deep K slice
  static constexpr int K16_STEP = MN ? 2 * SBO : 32;
  // Byte offset of 16-bit element (mn, k) of the tile (k < 64 for K-major tiles).
  __device__ __forceinline__ static int offset(int mn_, int k_) {
    const unsigned mn = unsigned(mn_), k = unsigned(k_);  // non-negative: shifts and masks
    if (MN)
      return int((mn / 64) * LBO + (k / 8) * SBO + (k % 8) * 128 +
                 ((((mn % 64) / 8) ^ (k % 8)) * 16) + (mn % 8) * 2);
    return int((mn / 8) * SBO + (mn % 8) * 128 + (((k / 8) ^ (mn % 8)) * 16) + (k % 8) * 2);
  }
};
// K-major tiles: LBO is not used by swizzled K-major layouts (1 in the descriptor).
using TlWgKMajor = TlWgLayout<false, 16, 1024>;

#if defined(TL_EMULATION)

// Bytes from p to the next 1024-byte boundary (of the host address under the emulator, whose
// model applies the swizzle to host address bits as the GPU does to shared-window bits).
__device__ __forceinline__ int tl_wg_align_pad(const void* p) {
  return int((1024 - (reinterpret_cast<unsigned long long>(p) & 1023)) & 1023);
}
__device__ __forceinline__ void tl_fence_proxy_async() {}
__device__ __forceinline__ void tl_wgmma_fence() {}
__device__ __forceinline__ void tl_wgmma_commit() {}
template <int N>
__device__ __forceinline__ void tl_wgmma_wait() {}
// D[64 x 256] += A[64 x 16] * B[256 x 16]^T for the warpgroup; a and b: the K slice's start
// (tile + k16 * K16_STEP); LA / LB: the tiles' TlWgLayout.
template <bool BF16, class LA, class LB>
__device__ __forceinline__ void tl_wgmma_m64n256k16(float (&d)[128], tl_saddr a, tl_saddr b) {
  tl_emu::wgmma_sw128(d, 256, a, LA::MN, LA::LBO, LA::SBO, b, LB::MN, LB::LBO, LB::SBO,
                      BF16 ? tl_emu::kMmaBF16 : tl_emu::kMmaF16);
}
// float -> f16/bf16 bits, round to nearest even.
template <bool BF16>
__device__ __forceinline__ unsigned short tl_wg_f2bits(float x) {
  return BF16 ? tl_emu::float_to_bf16_bits(x) : tl_emu_float_to_half_bits(x);
}

#else  // GPU

// Descriptor of a 128-byte-swizzled operand of layout L starting at shared address `s`: bits
// 0-13 start >> 4, 16-29 leading byte offset >> 4, 32-45 stride byte offset >> 4, 62-63
// swizzle mode (1: 128 bytes).
template <class L>
__device__ __forceinline__ unsigned long long tl_wg_desc(unsigned s) {
  return (unsigned long long)((s & 0x3FFFFu) >> 4) | ((unsigned long long)(L::LBO >> 4) << 16) |
         ((unsigned long long)(L::SBO >> 4) << 32) | (1ull << 62);
}
// Bytes from p to the next 1024-byte boundary of the shared window.
__device__ __forceinline__ int tl_wg_align_pad(const void* p) {
  return int((1024 - (tl_smem_addr(p) & 1023)) & 1023);
}
// Makes this thread's ordinary shared-memory writes (stores, completed cp.async) visible to the
// async proxy that wgmma reads through; each writing thread runs it before the barrier.
__device__ __forceinline__ void tl_fence_proxy_async() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
__device__ __forceinline__ void tl_wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void tl_wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
// Waits until at most N committed wgmma groups of this warpgroup are in flight.
template <int N>
__device__ __forceinline__ void tl_wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

#define TL_WG_F8(b)                                                                        \
  "+f"(d[b]), "+f"(d[b + 1]), "+f"(d[b + 2]), "+f"(d[b + 3]), "+f"(d[b + 4]), "+f"(d[b + 5]), \
      "+f"(d[b + 6]), "+f"(d[b + 7])
#define TL_WG_F128                                                                        \
  TL_WG_F8(0), TL_WG_F8(8), TL_WG_F8(16), TL_WG_F8(24), TL_WG_F8(32), TL_WG_F8(40),          \
      TL_WG_F8(48), TL_WG_F8(56), TL_WG_F8(64), TL_WG_F8(72), TL_WG_F8(80), TL_WG_F8(88),    \
      TL_WG_F8(96), TL_WG_F8(104), TL_WG_F8(112), TL_WG_F8(120)
#define TL_WG_D128                                                                          \
  "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,"  \
  "%24,%25,%26,%27,%28,%29,%30,%31,%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45," \
  "%46,%47,%48,%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63,%64,%65,%66,%67," \
  "%68,%69,%70,%71,%72,%73,%74,%75,%76,%77,%78,%79,%80,%81,%82,%83,%84,%85,%86,%87,%88,%89," \
  "%90,%91,%92,%93,%94,%95,%96,%97,%98,%99,%100,%101,%102,%103,%104,%105,%106,%107,%108,"    \
  "%109,%110,%111,%112,%113,%114,%115,%116,%117,%118,%119,%120,%121,%122,%123,%124,%125,"    \
  "%126,%127}"

// D[64 x 256] += A[64 x 16] * B[256 x 16]^T for the warpgroup; a and b are the shared
// addresses of the K slice's start (tile + k16 * K16_STEP), LA / LB the tiles' TlWgLayout (an
// MN-major tile sets the operand's transpose bit). Accumulator i of thread t (warp w = t / 32 of
// the warpgroup, lane l) is D[16 w + l / 4 + 8 ((i / 2) % 2)][8 (i / 4) + 2 (l % 4) + i % 2].
template <bool BF16, class LA, class LB>
__device__ __forceinline__ void tl_wgmma_m64n256k16(float (&d)[128], tl_saddr a, tl_saddr b) {
  const unsigned long long da = tl_wg_desc<LA>(a), db = tl_wg_desc<LB>(b);
  if (BF16) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 " TL_WG_D128
                 ", %128, %129, p, 1, 1, %130, %131;\n}\n"
                 : TL_WG_F128
                 : "l"(da), "l"(db), "n"(LA::MN ? 1 : 0), "n"(LB::MN ? 1 : 0));
  } else {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 " TL_WG_D128
                 ", %128, %129, p, 1, 1, %130, %131;\n}\n"
                 : TL_WG_F128
                 : "l"(da), "l"(db), "n"(LA::MN ? 1 : 0), "n"(LB::MN ? 1 : 0));
  }
}
#undef TL_WG_F8
#undef TL_WG_F128
#undef TL_WG_D128

// float -> f16/bf16 bits, round to nearest even (no cuda_fp16.h: this file also compiles
// through tensorlab's own NVRTC call, which passes no header paths).
template <bool BF16>
__device__ __forceinline__ unsigned short tl_wg_f2bits(float x) {
  unsigned short r;
  if (BF16)
    asm("cvt.rn.bf16.f32 %0, %1;\n" : "=h"(r) : "f"(x));
  else
    asm("cvt.rn.f16.f32 %0, %1;\n" : "=h"(r) : "f"(x));
  return r;
}

#endif  // TL_EMULATION
