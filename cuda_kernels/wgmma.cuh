// Hopper warpgroup MMA building blocks (sm_90a): wgmma.mma_async m64n256k16 with f16/bf16
// operands read from shared memory through matrix descriptors, f32 accumulators in registers,
// and the fences that order it against ordinary shared-memory writes.
//
// Shared-memory operand layout (the only one used here): K-major, 128-byte swizzle. A tile is a
// stack of rows of 64 16-bit elements (128 bytes) along K; 8 consecutive rows form a 1024-byte
// atom, atoms are contiguous (stride 1024 bytes), and the tile starts on a 1024-byte boundary.
// Inside an atom the 16-byte chunk c of row r is stored at chunk position c ^ (r % 8): the
// hardware applies this XOR to address bits 4-6 from bits 7-9, so a descriptor whose start is
// advanced by 32 bytes selects the next 16 elements of K (tl_wg_swizzle gives the byte offset).
//
// On the GPU each wrapper is one PTX instruction (the kernel must be compiled for sm_90a). Under
// the host emulator (TL_EMULATION) tl_wgmma_m64n256k16 maps onto cuda_emu.h's model, which reads
// the same swizzled layout; the fences are no-ops there and the MMA completes when issued.
#pragma once

#include "cp_async.cuh"

// Byte offset of 16-bit element (row, k) of a K-major, 128-byte-swizzled tile (k < 64).
__device__ __forceinline__ int tl_wg_swizzle(int row, int k) {
  const int chunk = (k >> 3) ^ (row & 7);
  return row * 128 + chunk * 16 + (k & 7) * 2;
}

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
// D[64 x 256] += A[64 x 16] * B[256 x 16]^T; a and b point at the first element of the 16-wide
// K slice (tile start + 32 * k16 bytes).
template <bool BF16>
__device__ __forceinline__ void tl_wgmma_m64n256k16(float (&d)[128], tl_saddr a, tl_saddr b) {
  tl_emu::wgmma_k_sw128(d, 256, a, b, BF16 ? tl_emu::kMmaBF16 : tl_emu::kMmaF16);
}
// float -> f16/bf16 bits, round to nearest even.
template <bool BF16>
__device__ __forceinline__ unsigned short tl_wg_f2bits(float x) {
  return BF16 ? tl_emu::float_to_bf16_bits(x) : tl_emu_float_to_half_bits(x);
}

#else  // GPU

// Descriptor of a K-major, 128-byte-swizzled operand starting at shared address `s`: bits 0-13
// start >> 4, 16-29 leading byte offset >> 4 (unused by swizzled K-major layouts: 1), 32-45
// stride byte offset >> 4 (1024 bytes between 8-row atoms), 62-63 swizzle mode (1: 128 bytes).
__device__ __forceinline__ unsigned long long tl_wg_desc(unsigned s) {
  return (unsigned long long)((s & 0x3FFFFu) >> 4) | (1ull << 16) | ((1024ull >> 4) << 32) |
         (1ull << 62);
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

// D[64 x 256] += A[64 x 16] * B[256 x 16]^T for the warpgroup; a and b are shared addresses of
// the first element of the 16-wide K slice. Accumulator i of thread t (warp w = t / 32 of the
// warpgroup, lane l) is D[16 w + l / 4 + 8 ((i / 2) % 2)][8 (i / 4) + 2 (l % 4) + i % 2].
template <bool BF16>
__device__ __forceinline__ void tl_wgmma_m64n256k16(float (&d)[128], tl_saddr a, tl_saddr b) {
  const unsigned long long da = tl_wg_desc(a), db = tl_wg_desc(b);
  if (BF16) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 " TL_WG_D128
                 ", %128, %129, p, 1, 1, 0, 0;\n}\n"
                 : TL_WG_F128
                 : "l"(da), "l"(db));
  } else {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 " TL_WG_D128
                 ", %128, %129, p, 1, 1, 0, 0;\n}\n"
                 : TL_WG_F128
                 : "l"(da), "l"(db));
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
