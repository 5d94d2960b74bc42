// Kernels that exercise the emulator itself (tests/kernels/emu/test_emu_harness.py).
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(256) st_block_sum(const float* __restrict__ x, float* out, int n) {
  __shared__ float scratch[32];
  float v = 0.f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) v += x[blockIdx.x * n + i];
  v = tl_block_sum(v, scratch);
  if (threadIdx.x == 0) out[blockIdx.x] = v;
}

extern "C" __global__ void st_shuffle(const int* x, int* out, int mode) {
  const int v = x[threadIdx.x];
  int r;
  if (mode == 0) r = __shfl_down_sync(TL_FULL_MASK, v, 3);
  else if (mode == 1) r = __shfl_up_sync(TL_FULL_MASK, v, 3, 16);
  else if (mode == 2) r = __shfl_sync(TL_FULL_MASK, v, 5, 8);
  else if (mode == 3) r = __shfl_xor_sync(TL_FULL_MASK, v, 1);
  else r = (int)__ballot_sync(TL_FULL_MASK, v & 1);
  out[threadIdx.x] = r;
}

extern "C" __global__ void st_dynamic_smem(float* out, double s) {
  TL_DYNAMIC_SMEM(float, sm);
  sm[threadIdx.x] = threadIdx.x * (float)s;
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = sm[blockDim.x - 1 - threadIdx.x];
}

extern "C" __global__ void st_divergent_barrier(float* out) {
  if (threadIdx.x < 5) __syncthreads();
  else __syncwarp();
  out[0] = 1.f;
}

// Threads that return early must not hold up the barrier of the others.
extern "C" __global__ void st_early_exit(int* out, int live) {
  __shared__ int s[64];
  if ((int)threadIdx.x >= live) return;
  s[threadIdx.x] = threadIdx.x;
  __syncthreads();
  out[threadIdx.x] = s[live - 1 - threadIdx.x] + __syncthreads_count(1);
}

extern "C" __global__ void st_atomics(float* fsum, int* cnt, float* fmax, const float* x) {
  atomicAdd(fsum, x[threadIdx.x]);
  atomicAdd(cnt, 1);
  tl_atomic_max_f32(fmax, x[threadIdx.x]);
}

extern "C" __global__ void st_dims(int* out) {
  const int t = tl_block_thread_id();
  const int b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  out[b * tl_block_threads() + t] = 1000 * b + t;
}

extern "C" __global__ void st_half(const unsigned short* h, float* f, unsigned short* back, int n) {
  const int i = threadIdx.x;
  if (i < n) {
    f[i] = tl_half_to_float(h[i]);
    back[i] = tl_float_to_half(f[i] * 2.f);
  }
}

template <class T> __global__ void st_template_not_exported(T* x) { x[0] = T(1); }
