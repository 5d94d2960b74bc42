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

// ---- tensor-core / async-copy models (cuda_kernels/mma.cuh on the emulator)
#include "mma.cuh"

// One m16n8k16 (f16 / bf16 bits) or m16n8k8 (tf32) product D = A B + C with the fragments read
// straight from global memory by the PTX ISA's per-lane layout (no ldmatrix): A row-major 16 x K,
// B row-major K x 8, C and D row-major 16 x 8.
extern "C" __global__ void st_mma(const unsigned short* a16, const unsigned short* b16,
                                  const float* a32, const float* b32, const float* c, float* d,
                                  int kind) {
  const int l = threadIdx.x, g = l / 4, t = l % 4;
  float acc[4];
  for (int q = 0; q < 4; ++q) acc[q] = c[(g + 8 * (q / 2)) * 8 + 2 * t + q % 2];
  unsigned a[4], b[2];
  if (kind == 2) {
    for (int q = 0; q < 4; ++q) a[q] = tl_to_tf32(a32[(g + 8 * (q % 2)) * 8 + t + 4 * (q / 2)]);
    for (int q = 0; q < 2; ++q) b[q] = tl_to_tf32(b32[(t + 4 * q) * 8 + g]);
    tl_mma1688_tf32(acc, a, b[0], b[1]);
  } else {
    for (int q = 0; q < 4; ++q) {
      const int r = g + 8 * (q % 2), k = 2 * t + 8 * (q / 2);
      a[q] = unsigned(a16[r * 16 + k]) | (unsigned(a16[r * 16 + k + 1]) << 16);
    }
    for (int q = 0; q < 2; ++q) {
      const int k = 2 * t + 8 * q;
      b[q] = unsigned(b16[k * 8 + g]) | (unsigned(b16[(k + 1) * 8 + g]) << 16);
    }
    if (kind == 1) tl_mma16816<true>(acc, a, b[0], b[1]);
    else tl_mma16816<false>(acc, a, b[0], b[1]);
  }
  for (int q = 0; q < 4; ++q) d[(g + 8 * (q / 2)) * 8 + 2 * t + q % 2] = acc[q];
}

// ldmatrix.x4 of four 8x8 b16 matrices stored row-major one after another in shared memory
// (pitch `pitch` elements); every lane writes its four registers to out[lane*4 + i].
extern "C" __global__ void st_ldmatrix(const unsigned short* m, unsigned* out, int trans, int pitch,
                                       int offset) {
  __shared__ __align__(16) unsigned short s[4 * 8 * 24 + 8];
  for (int i = threadIdx.x; i < 4 * 8 * pitch; i += blockDim.x) s[i + offset] = m[i];
  __syncthreads();
  const int l = threadIdx.x;
  unsigned r[4];
  const tl_saddr addr = tl_smem_addr(s + offset + (l / 8) * 8 * pitch + (l % 8) * pitch);
  if (trans) tl_ldsm_x4_t(r, addr);
  else tl_ldsm_x4(r, addr);
  for (int i = 0; i < 4; ++i) out[l * 4 + i] = r[i];
}

// cp.async of 16-byte chunks with partial zero-fill; `wait` = 0 skips cp.async.wait_group.
extern "C" __global__ void st_cp_async(const float* src, float* out, int n_valid, int wait) {
  TL_DYNAMIC_SMEM(float, s);
  const int i = threadIdx.x;  // chunk i = floats 4i .. 4i+3
  const int valid = min(max(n_valid - 4 * i, 0), 4);
  tl_cp_async16(tl_smem_addr(s + 4 * i), valid > 0 ? src + 4 * i : src, valid * 4);
  tl_cp_async_commit();
  if (wait) tl_cp_async_wait<0>();
  __syncthreads();
  for (int j = 0; j < 4; ++j) out[4 * i + j] = s[4 * i + j];
}
