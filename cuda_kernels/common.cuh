// common.cuh -- helpers shared by every tensorlab kernel file.
//
// Compiles under NVRTC (cupy.RawModule, -std=c++17), nvcc, and the host emulator
// (tests/kernels/emu/cuda_emu.h, which defines TL_EMULATION). No standard headers: NVRTC has none.
//
// Conventions used by the helpers below:
//   * block reductions need a block whose total thread count is a multiple of 32 (<= 1024) and
//     that every thread of the block calls them (they contain __syncthreads);
//   * warp reductions need all 32 lanes of the warp to call them;
//   * sizes and offsets are `long long` (tensors can exceed 2^31 elements).
#pragma once

#define TL_FULL_MASK 0xffffffffu

// Dynamic shared memory, declared at FUNCTION scope: TL_DYNAMIC_SMEM(float, smem);
// On the GPU this is one 16-byte aligned `extern __shared__` byte array reinterpreted as `type*`
// (declaring `extern __shared__ T name[]` with different T in one file is a compile error for
// templates, so the raw array is always unsigned char). `name` is a `type*`.
#ifdef TL_EMULATION
#define TL_DYNAMIC_SMEM(type, name) type* name = reinterpret_cast<type*>(tl_emu::dynamic_smem())
#else
#define TL_DYNAMIC_SMEM(type, name)                                  \
  extern __shared__ __align__(16) unsigned char tl_dynamic_smem_raw_[]; \
  type* name = reinterpret_cast<type*>(tl_dynamic_smem_raw_)
#endif

// ------------------------------------------------------------------------------ indexing
__device__ __forceinline__ long long tl_ceil_div(long long a, long long b) { return (a + b - 1) / b; }

// Flat thread id over a 1-D grid of 1-D blocks, and the matching grid stride.
__device__ __forceinline__ long long tl_global_thread_id() {
  return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ long long tl_grid_stride() { return (long long)gridDim.x * blockDim.x; }

// Linear thread index inside the block (x fastest), its lane and its warp.
__device__ __forceinline__ int tl_block_thread_id() {
  return (int)(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
}
__device__ __forceinline__ int tl_block_threads() { return (int)(blockDim.x * blockDim.y * blockDim.z); }
__device__ __forceinline__ int tl_lane_id() { return tl_block_thread_id() & 31; }
__device__ __forceinline__ int tl_warp_id() { return tl_block_thread_id() >> 5; }

// ------------------------------------------------------------------------------ constants
__device__ __forceinline__ float tl_inf_f32() { return __int_as_float(0x7f800000); }
__device__ __forceinline__ double tl_inf_f64() { return __longlong_as_double(0x7ff0000000000000ll); }
__device__ __forceinline__ float tl_nan_f32() { return __int_as_float(0x7fc00000); }
__device__ __forceinline__ double tl_nan_f64() { return __longlong_as_double(0x7ff8000000000000ll); }
template <class T> __device__ __forceinline__ T tl_inf();
template <> __device__ __forceinline__ float tl_inf<float>() { return tl_inf_f32(); }
template <> __device__ __forceinline__ double tl_inf<double>() { return tl_inf_f64(); }
template <class T> __device__ __forceinline__ T tl_nan();
template <> __device__ __forceinline__ float tl_nan<float>() { return tl_nan_f32(); }
template <> __device__ __forceinline__ double tl_nan<double>() { return tl_nan_f64(); }

// ------------------------------------------------------------------------------ vector loads
// A pointer qualifies for a `bytes`-wide vector access when its address is a multiple of it.
__device__ __forceinline__ bool tl_is_aligned(const void* p, unsigned bytes) {
  return ((unsigned long long)p & (unsigned long long)(bytes - 1)) == 0;
}
// Number of leading elements of size `elem` to handle one by one before `p` becomes 16-byte
// aligned (0 if already aligned, n if it can never become aligned).
__device__ __forceinline__ long long tl_align_head(const void* p, unsigned elem, long long n) {
  const unsigned long long a = (unsigned long long)p;
  if (a % elem != 0) return n;
  long long h = (long long)(((16u - (a & 15u)) & 15u) / elem);
  return h < n ? h : n;
}
__device__ __forceinline__ float4 tl_load_float4(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ __forceinline__ void tl_store_float4(float* p, float4 v) { *reinterpret_cast<float4*>(p) = v; }
__device__ __forceinline__ double2 tl_load_double2(const double* p) { return *reinterpret_cast<const double2*>(p); }
__device__ __forceinline__ void tl_store_double2(double* p, double2 v) { *reinterpret_cast<double2*>(p) = v; }
// 16 bytes of T (4 floats, 2 doubles, 8 halves) for generic vector loads/stores:
//   TlPack<T> v = *reinterpret_cast<const TlPack<T>*>(p);   // p 16-byte aligned
template <class T> struct __align__(16) TlPack { T v[16 / sizeof(T)]; };
// Read-only (non-coherent cache) variant for data that no thread of the kernel writes.
__device__ __forceinline__ float4 tl_ldg_float4(const float* p) { return __ldg(reinterpret_cast<const float4*>(p)); }

// ------------------------------------------------------------------------------ half bits
// float16 is carried as raw `unsigned short` bits so that no cuda_fp16.h is needed under NVRTC.
__device__ __forceinline__ float tl_half_to_float(unsigned short h) {
#ifdef TL_EMULATION
  return tl_emu_half_bits_to_float(h);
#else
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
#endif
}
__device__ __forceinline__ unsigned short tl_float_to_half(float f) {
#ifdef TL_EMULATION
  return tl_emu_float_to_half_bits(f);
#else
  unsigned short h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
#endif
}

// ------------------------------------------------------------------------------ reduce ops
// max/min propagate NaN like numpy (fmaxf would drop it).
struct TlSumOp {
  template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct TlProdOp {
  template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return a * b; }
};
struct TlMaxOp {
  template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return (a > b || a != a) ? a : b; }
};
struct TlMinOp {
  template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return (a < b || a != a) ? a : b; }
};

// ------------------------------------------------------------------------------ warp reductions
// Butterfly (xor) reduction: every lane ends with the result.
template <class T, class Op>
__device__ __forceinline__ T tl_warp_allreduce(T v, Op op) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(TL_FULL_MASK, v, o));
  return v;
}
template <class T> __device__ __forceinline__ T tl_warp_sum(T v) { return tl_warp_allreduce(v, TlSumOp()); }
template <class T> __device__ __forceinline__ T tl_warp_max(T v) { return tl_warp_allreduce(v, TlMaxOp()); }
template <class T> __device__ __forceinline__ T tl_warp_min(T v) { return tl_warp_allreduce(v, TlMinOp()); }

// ------------------------------------------------------------------------------ block reductions
// All threads get the result. `scratch` is shared memory with room for 32 T. Ends with a
// barrier so the same scratch can be reused right away.
template <class T, class Op>
__device__ __forceinline__ T tl_block_allreduce(T v, Op op, T identity, T* scratch) {
  const int lane = tl_lane_id(), warp = tl_warp_id();
  const int nwarps = tl_block_threads() >> 5;
  v = tl_warp_allreduce(v, op);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < nwarps ? scratch[lane] : identity;
  v = tl_warp_allreduce(v, op);
  __syncthreads();
  return v;
}
template <class T>
__device__ __forceinline__ T tl_block_sum(T v, T* scratch) { return tl_block_allreduce(v, TlSumOp(), T(0), scratch); }
template <class T>
__device__ __forceinline__ T tl_block_max(T v, T* scratch) { return tl_block_allreduce(v, TlMaxOp(), -tl_inf<T>(), scratch); }
template <class T>
__device__ __forceinline__ T tl_block_min(T v, T* scratch) { return tl_block_allreduce(v, TlMinOp(), tl_inf<T>(), scratch); }

// ------------------------------------------------------------------------------ atomics
// Float max/min through compare-and-swap (no native float atomicMax before sm_90 in all toolkits).
__device__ __forceinline__ float tl_atomic_max_f32(float* addr, float v) {
  int* ia = reinterpret_cast<int*>(addr);
  int old = *ia, assumed;
  do {
    assumed = old;
    if (!(v > __int_as_float(assumed))) break;
    old = atomicCAS(ia, assumed, __float_as_int(v));
  } while (assumed != old);
  return __int_as_float(old);
}
__device__ __forceinline__ float tl_atomic_min_f32(float* addr, float v) {
  int* ia = reinterpret_cast<int*>(addr);
  int old = *ia, assumed;
  do {
    assumed = old;
    if (!(v < __int_as_float(assumed))) break;
    old = atomicCAS(ia, assumed, __float_as_int(v));
  } while (assumed != old);
  return __int_as_float(old);
}
