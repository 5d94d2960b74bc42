// Tensor-core building blocks (sm_80+): ldmatrix, mma.sync, and the float -> f16/bf16/tf32
// conversions the tensor-core kernels use (cp.async and shared addresses: cp_async.cuh).
//
// On the GPU each is one PTX instruction. Under the host emulator (TL_EMULATION) each maps onto
// tests/kernels/emu/cuda_emu.h's model of that instruction (warp-collective fragment exchange),
// so the tensor-core kernels run in CI too.
#pragma once

#include "cp_async.cuh"

#if defined(TL_EMULATION)

__device__ __forceinline__ void tl_ldsm_x4(unsigned (&r)[4], tl_saddr addr) {
  tl_emu::ldmatrix(r, 4, addr, false);
}
__device__ __forceinline__ void tl_ldsm_x4_t(unsigned (&r)[4], tl_saddr addr) {
  tl_emu::ldmatrix(r, 4, addr, true);
}
template <bool BF16>
__device__ __forceinline__ void tl_mma16816(float (&c)[4], const unsigned (&a)[4], unsigned b0,
                                            unsigned b1) {
  tl_emu::mma_sync(c, a, b0, b1, BF16 ? tl_emu::kMmaBF16 : tl_emu::kMmaF16);
}
__device__ __forceinline__ void tl_mma1688_tf32(float (&c)[4], const unsigned (&a)[4], unsigned b0,
                                                unsigned b1) {
  tl_emu::mma_sync(c, a, b0, b1, tl_emu::kMmaTF32);
}
__device__ __forceinline__ unsigned tl_to_tf32(float x) { return tl_emu::cvt_rna_tf32(x); }
template <bool BF16>
__device__ __forceinline__ unsigned short tl_f2bits(float x) {
  return BF16 ? tl_emu::float_to_bf16_bits(x) : tl_emu_float_to_half_bits(x);
}

#else  // GPU

#include <cuda_fp16.h>
#include <cuda_bf16.h>

__device__ __forceinline__ void tl_ldsm_x4(unsigned (&r)[4], tl_saddr addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void tl_ldsm_x4_t(unsigned (&r)[4], tl_saddr addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
template <bool BF16>
__device__ __forceinline__ void tl_mma16816(float (&c)[4], const unsigned (&a)[4], unsigned b0,
                                            unsigned b1) {
  if (BF16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}
__device__ __forceinline__ void tl_mma1688_tf32(float (&c)[4], const unsigned (&a)[4], unsigned b0,
                                                unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ unsigned tl_to_tf32(float x) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
}
template <bool BF16>
__device__ __forceinline__ unsigned short tl_f2bits(float x) {
  if (BF16) return __bfloat16_as_ushort(__float2bfloat16_rn(x));
  return __half_as_ushort(__float2half_rn(x));
}

#endif  // TL_EMULATION
