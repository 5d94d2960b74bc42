// Asynchronous global -> shared copies (sm_80+ cp.async) and 32-bit shared-window addresses,
// shared by the mma.sync (mma.cuh) and wgmma (wgmma.cuh) kernels. Needs no CUDA header.
//
// On the GPU each copy is one PTX instruction. Under the host emulator (TL_EMULATION) copies are
// queued and land at the matching wait_group (tests/kernels/emu/cuda_emu.h), so a missing wait
// reads poison. Shared-memory operands are passed as `tl_saddr` (a 32-bit shared-window address
// on the GPU, a host pointer under the emulator); make one with tl_smem_addr(ptr).
#pragma once

#include "common.cuh"

#if defined(TL_EMULATION)

typedef const void* tl_saddr;
__device__ __forceinline__ tl_saddr tl_smem_addr(const void* p) { return p; }

// 16-byte async copy; bytes beyond src_bytes are zero-filled.
__device__ __forceinline__ void tl_cp_async16(tl_saddr dst, const void* src, int src_bytes) {
  tl_emu::cp_async(const_cast<void*>(dst), src, 16, src_bytes);
}
__device__ __forceinline__ void tl_cp_async_commit() { tl_emu::cp_async_commit(); }
template <int N>
__device__ __forceinline__ void tl_cp_async_wait() { tl_emu::cp_async_wait(N); }

#else  // GPU

typedef unsigned tl_saddr;
__device__ __forceinline__ tl_saddr tl_smem_addr(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}
// 16-byte async copy; bytes beyond src_bytes are zero-filled (partial tiles).
__device__ __forceinline__ void tl_cp_async16(tl_saddr dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(src_bytes));
}
__device__ __forceinline__ void tl_cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void tl_cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

#endif  // TL_EMULATION
