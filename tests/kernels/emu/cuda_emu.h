// cuda_emu.h -- run CUDA C++ kernels on the host, for correctness tests without a GPU.
//
// Force-included by tests/kernels/emu/build.py (g++ -std=c++20 -include cuda_emu.h) in front of
// cuda_kernels/<stem>.cu. Each CUDA thread of a block is a cooperative fiber (ucontext) on the
// calling OS thread; blocks run one after another. __syncthreads and the warp-collective ops
// (__shfl*_sync, __ballot_sync, __syncwarp, ...) are real barriers over the block's / warp's
// live fibers, so races across a barrier and missing barriers behave as on the GPU only if the
// schedule exposes them (round-robin between barriers; no preemption inside a barrier interval).
// cp.async, ldmatrix and mma.sync (reached through cuda_kernels/mma.cuh) are modelled too.
// See README.md in this folder for what is supported and the limits.
#pragma once
#ifndef TL_EMULATION
#define TL_EMULATION 1
#endif

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <math.h>
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <tuple>
#include <type_traits>
#include <ucontext.h>
#include <unistd.h>
#include <utility>
#include <vector>

// ---------------------------------------------------------------- qualifiers
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static  // one instance per program; blocks run one at a time
#define __constant__
#define __managed__
#define __grid_constant__
// __restrict__ is understood by g++ as is.

// ---------------------------------------------------------------- vector types
#define TL_EMU_VEC2(T, N, A) struct __attribute__((aligned(A))) N##2 { T x, y; }; \
  inline N##2 make_##N##2(T x, T y) { N##2 r; r.x = x; r.y = y; return r; }
#define TL_EMU_VEC3(T, N) struct N##3 { T x, y, z; }; \
  inline N##3 make_##N##3(T x, T y, T z) { N##3 r; r.x = x; r.y = y; r.z = z; return r; }
#define TL_EMU_VEC4(T, N, A) struct __attribute__((aligned(A))) N##4 { T x, y, z, w; }; \
  inline N##4 make_##N##4(T x, T y, T z, T w) { N##4 r; r.x = x; r.y = y; r.z = z; r.w = w; return r; }
#define TL_EMU_VEC1(T, N) struct N##1 { T x; }; inline N##1 make_##N##1(T x) { N##1 r; r.x = x; return r; }
#define TL_EMU_VECS(T, N, A2, A4) TL_EMU_VEC1(T, N) TL_EMU_VEC2(T, N, A2) TL_EMU_VEC3(T, N) TL_EMU_VEC4(T, N, A4)
TL_EMU_VECS(signed char, char, 2, 4)
TL_EMU_VECS(unsigned char, uchar, 2, 4)
TL_EMU_VECS(short, short, 4, 8)
TL_EMU_VECS(unsigned short, ushort, 4, 8)
TL_EMU_VECS(int, int, 8, 16)
TL_EMU_VECS(unsigned int, uint, 8, 16)
TL_EMU_VECS(long long, longlong, 16, 32)
TL_EMU_VECS(unsigned long long, ulonglong, 16, 32)
TL_EMU_VECS(float, float, 8, 16)
TL_EMU_VECS(double, double, 16, 32)

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

// ---------------------------------------------------------------- runtime state
// Fiber switch: a 20-instruction x86-64 stack switch (callee-saved registers, MXCSR, x87 CW),
// much cheaper than swapcontext (which makes two sigprocmask syscalls). Other hosts, or
// -DTL_EMU_UCONTEXT, use ucontext.
#if defined(__x86_64__) && !defined(TL_EMU_UCONTEXT)
#define TL_EMU_FAST_SWITCH 1
extern "C" void tl_emu_switch_stack(void** save_sp, void* load_sp);
asm(R"(
  .text
  .globl tl_emu_switch_stack
  .hidden tl_emu_switch_stack
  .type tl_emu_switch_stack, @function
tl_emu_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size tl_emu_switch_stack, .-tl_emu_switch_stack
)");
#else
#define TL_EMU_FAST_SWITCH 0
#endif

namespace tl_emu {

struct CpAsync {
  unsigned char* dst;
  const unsigned char* src;
  int size, src_bytes;
};

struct Fiber {
#if TL_EMU_FAST_SWITCH
  void* sp = nullptr;
#else
  ucontext_t ctx;
#endif
  void* stack = nullptr;
  size_t stack_size = 0;
  uint3 tid{};
  unsigned warp = 0, lane = 0;
  bool done = false;
  // cp.async: copies issued since the last commit, and committed groups (oldest first). They
  // land in shared memory only at cp.async.wait_group, so a missing wait reads poison.
  std::vector<CpAsync> cp_open;
  std::vector<std::vector<CpAsync>> cp_groups;
};

struct Warp {
  unsigned live = 0, count = 0;
  unsigned part[2] = {0, 0};  // lanes that published into slot[i] for the exchange in flight
  unsigned long long gen = 0;
  unsigned live_mask = 0;
  alignas(16) unsigned char slot[2][32][8];
  alignas(16) unsigned char wide[2][32][32];  // per-lane fragments for ldmatrix / mma.sync
};

struct Runtime {
#if TL_EMU_FAST_SWITCH
  void* sched_sp = nullptr;
#else
  ucontext_t sched;
#endif
  std::vector<Fiber> fibers;
  std::vector<Warp> warps;
  Fiber* cur = nullptr;
  unsigned live = 0, bar_count = 0;
  unsigned long long bar_gen = 0, progress = 0;
  int bar_acc[2] = {0, 0};
  std::function<void()> body;
  std::vector<unsigned char> dsmem;
  std::string error;
  std::string fault;  // first error raised inside a kernel (bad alignment, partial warp, ...)
};

inline Runtime& rt() { static Runtime r; return r; }
inline std::mutex& launch_mutex() { static std::mutex m; return m; }

}  // namespace tl_emu

inline uint3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
constexpr int warpSize = 32;

namespace tl_emu {

inline void yield_to_scheduler() {
  Runtime& r = rt();
  asm volatile("" ::: "memory");
#if TL_EMU_FAST_SWITCH
  tl_emu_switch_stack(&r.cur->sp, r.sched_sp);
#else
  swapcontext(&r.cur->ctx, &r.sched);
#endif
  asm volatile("" ::: "memory");
}

inline void release_warp(Warp& w) {
  w.count = 0;
  w.part[(w.gen & 1) ^ 1] = 0;
  ++w.gen;
}

// Barrier over all live threads of the block. `pred` is folded into a count for __syncthreads_count.
__attribute__((noinline)) inline int block_barrier(int pred = 0) {
  Runtime& r = rt();
  const unsigned long long g = r.bar_gen;
  const int s = int(g & 1);
  r.bar_acc[s] += pred;
  ++r.progress;
  if (++r.bar_count == r.live) {
    r.bar_count = 0;
    r.bar_acc[s ^ 1] = 0;
    ++r.bar_gen;
  } else {
    while (r.bar_gen == g) yield_to_scheduler();
  }
  return r.bar_acc[s];
}

// Barrier over the live lanes of the calling thread's warp; returns the buffer index used.
__attribute__((noinline)) inline void warp_barrier(Warp& w) {
  Runtime& r = rt();
  const unsigned long long g = w.gen;
  ++r.progress;
  if (++w.count == w.live) {
    release_warp(w);
  } else {
    while (w.gen == g) yield_to_scheduler();
  }
}

// Every lane publishes `v`; after the barrier lane reads the value published by `src`
// (an absolute lane id). Lanes that do not exist or have exited read an all-ones poison pattern
// (NaN for floating point), as reading an inactive lane is undefined on the GPU.
template <class T>
inline T warp_exchange(T v, int src) {
  static_assert(sizeof(T) <= 8, "warp shuffle of types wider than 8 bytes");
  Runtime& r = rt();
  Fiber& f = *r.cur;
  Warp& w = r.warps[f.warp];
  const int s = int(w.gen & 1);
  std::memcpy(w.slot[s][f.lane], &v, sizeof(T));
  w.part[s] |= 1u << f.lane;
  warp_barrier(w);
  T out;
  if (src >= 0 && src < 32 && (w.part[s] >> src & 1u)) {
    std::memcpy(&out, w.slot[s][src], sizeof(T));
  } else {
    std::memset(&out, 0xff, sizeof(T));
  }
  return out;
}

inline unsigned warp_ballot(int pred) {
  Runtime& r = rt();
  Fiber& f = *r.cur;
  Warp& w = r.warps[f.warp];
  const int s = int(w.gen & 1);
  w.slot[s][f.lane][0] = pred ? 1 : 0;
  w.part[s] |= 1u << f.lane;
  warp_barrier(w);
  unsigned m = 0;
  for (int l = 0; l < 32; ++l)
    if ((w.part[s] >> l & 1u) && w.slot[s][l][0]) m |= 1u << l;
  return m;
}

inline unsigned lane_id() { return rt().cur->lane; }

// First fault of a launch wins; the launch fails with it once the block has finished.
inline void fault(const std::string& msg) {
  Runtime& r = rt();
  if (r.fault.empty()) r.fault = msg;
}

// Every lane publishes `n` <= 32 bytes; after the warp barrier the returned array holds each
// lane's bytes, valid until this lane's next warp collective. `part` = lanes that published.
inline unsigned char (*warp_gather_wide(const void* mine, size_t n, unsigned& part))[32] {
  Runtime& r = rt();
  Fiber& f = *r.cur;
  Warp& w = r.warps[f.warp];
  const int s = int(w.gen & 1);
  std::memcpy(w.wide[s][f.lane], mine, n);
  w.part[s] |= 1u << f.lane;
  warp_barrier(w);
  part = w.part[s];
  return w.wide[s];
}

// ---------------------------------------------------------------- cp.async (sm_80+)
// cp.async.cg/ca.shared.global [dst], [src], size, src_bytes: queued, performed at wait_group.
inline void cp_async(void* dst, const void* src, int size, int src_bytes) {
  const auto d = reinterpret_cast<std::uintptr_t>(dst), s = reinterpret_cast<std::uintptr_t>(src);
  if ((size != 4 && size != 8 && size != 16) || src_bytes < 0 || src_bytes > size)
    return fault("cp.async: size must be 4, 8 or 16 and 0 <= src-size <= size");
  if (d % unsigned(size) || (src_bytes > 0 && s % unsigned(size)))
    return fault("cp.async: shared and global addresses must be aligned to the copy size");
  rt().cur->cp_open.push_back(CpAsync{static_cast<unsigned char*>(dst),
                                      static_cast<const unsigned char*>(src), size, src_bytes});
}
inline void cp_async_commit() {
  Fiber& f = *rt().cur;
  f.cp_groups.push_back(std::move(f.cp_open));
  f.cp_open.clear();
}
// Completes the oldest committed groups until at most `n` are pending (cp.async.wait_group n).
inline void cp_async_wait(int n) {
  Fiber& f = *rt().cur;
  size_t done = 0;
  while (f.cp_groups.size() - done > size_t(n)) {
    for (const CpAsync& c : f.cp_groups[done]) {
      if (c.src_bytes > 0) std::memcpy(c.dst, c.src, size_t(c.src_bytes));
      std::memset(c.dst + c.src_bytes, 0, size_t(c.size - c.src_bytes));  // zero-fill
    }
    ++done;
  }
  f.cp_groups.erase(f.cp_groups.begin(), f.cp_groups.begin() + std::ptrdiff_t(done));
}

// ---------------------------------------------------------------- ldmatrix (sm_75+)
// ldmatrix.sync.aligned.m8n8.x{num}[.trans].shared.b16: lane 8*i + j gives the address of row j
// of matrix i. Without .trans lane l receives, for matrix i, the 32-bit word holding elements
// (row l/4, columns 2(l%4), 2(l%4)+1); with .trans, elements (rows 2(l%4) and 2(l%4)+1, column l/4).
inline void ldmatrix(unsigned* out, int num, const void* addr, bool trans) {
  unsigned part = 0;
  auto* g = warp_gather_wide(&addr, sizeof addr, part);
  if (reinterpret_cast<std::uintptr_t>(addr) % 16 && int(lane_id()) < 8 * num)
    fault("ldmatrix: row addresses must be 16-byte aligned");
  const int l = int(lane_id());
  const unsigned need = num == 4 ? 0xffffffffu : (1u << (8 * num)) - 1u;
  if ((part & need) != need) {
    fault("ldmatrix: every lane that supplies a row address must take part");
    for (int i = 0; i < num; ++i) out[i] = 0xffffffffu;
    return;
  }
  auto row = [&](int src) {
    const void* p;
    std::memcpy(&p, g[src], sizeof p);
    return static_cast<const unsigned short*>(p);
  };
  for (int i = 0; i < num; ++i) {
    unsigned v;
    if (trans) {
      const unsigned short* r0 = row(8 * i + (l % 4) * 2);
      const unsigned short* r1 = row(8 * i + (l % 4) * 2 + 1);
      v = unsigned(r0[l / 4]) | (unsigned(r1[l / 4]) << 16);
    } else {
      std::memcpy(&v, row(8 * i + l / 4) + (l % 4) * 2, 4);
    }
    out[i] = v;
  }
}

// ---------------------------------------------------------------- mma.sync (sm_80+)
// D = A(16 x K) B(K x 8) + C with f32 accumulators, K = 16 for f16/bf16 and 8 for tf32.
// Fragments (g = lane/4, t = lane%4): c[q] = C[g + 8(q/2)][2t + q%2];
//   16-bit A: register q holds A[g + 8(q%2)][2t + 8(q/2) + {0,1}], B: register q holds B[2t + 8q + {0,1}][g];
//   tf32 A: register q holds A[g + 8(q%2)][t + 4(q/2)], B: register q holds B[t + 4q][g]
//   (tf32 operands use the top 19 bits of each register, as the tensor cores do).
enum MmaKind { kMmaF16 = 0, kMmaBF16 = 1, kMmaTF32 = 2 };
inline float half_bits_to_float(unsigned short h) {
  _Float16 v;
  std::memcpy(&v, &h, 2);
  return float(v);
}
inline float bf16_bits_to_float(unsigned short h) {
  const unsigned u = unsigned(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline void mma_sync(float* c, const unsigned* a, unsigned b0, unsigned b1, int kind) {
  struct Frag { unsigned a[4], b[2]; } mine{{a[0], a[1], a[2], a[3]}, {b0, b1}};
  unsigned part = 0;
  auto* g = warp_gather_wide(&mine, sizeof mine, part);
  if (part != 0xffffffffu) {
    fault("mma.sync: all 32 lanes of the warp must take part");
    return;
  }
  const int K = kind == kMmaTF32 ? 8 : 16;
  float A[16][16], B[16][8];
  auto half = [&](unsigned short h) {
    return kind == kMmaBF16 ? bf16_bits_to_float(h) : half_bits_to_float(h);
  };
  for (int L = 0; L < 32; ++L) {
    Frag fr;
    std::memcpy(&fr, g[L], sizeof fr);
    const int gg = L / 4, t = L % 4;
    for (int q = 0; q < 4; ++q) {
      if (kind == kMmaTF32) {
        const unsigned u = fr.a[q] & ~0x1FFFu;
        std::memcpy(&A[gg + 8 * (q % 2)][t + 4 * (q / 2)], &u, 4);
      } else {
        A[gg + 8 * (q % 2)][2 * t + 8 * (q / 2)] = half(static_cast<unsigned short>(fr.a[q] & 0xffffu));
        A[gg + 8 * (q % 2)][2 * t + 8 * (q / 2) + 1] = half(static_cast<unsigned short>(fr.a[q] >> 16));
      }
    }
    for (int q = 0; q < 2; ++q) {
      if (kind == kMmaTF32) {
        const unsigned u = fr.b[q] & ~0x1FFFu;
        std::memcpy(&B[t + 4 * q][gg], &u, 4);
      } else {
        B[2 * t + 8 * q][gg] = half(static_cast<unsigned short>(fr.b[q] & 0xffffu));
        B[2 * t + 8 * q + 1][gg] = half(static_cast<unsigned short>(fr.b[q] >> 16));
      }
    }
  }
  const int l = int(lane_id()), gg = l / 4, t = l % 4;
  for (int q = 0; q < 4; ++q) {
    const int row = gg + 8 * (q / 2), col = 2 * t + q % 2;
    float s = c[q];
    for (int k = 0; k < K; ++k) s += A[row][k] * B[k][col];
    c[q] = s;
  }
}

// wgmma.mma_async.m64nNk16 (sm_90a) with operands in shared memory, 128-byte swizzle
// (cuda_kernels/wgmma.cuh): D[64 x n] += A[64 x 16] * B[n x 16]^T for the calling thread's
// warpgroup. a, b: the K slice's start. A K-major operand (mn = false) has rows of 64 K elements
// 128 bytes apart and 8-row atoms sbo bytes apart; an MN-major one (mn = true, the transpose bit)
// has rows of 64 M/N elements along K, 128 bytes apart, atoms of 8 K-rows lbo bytes apart along
// M/N and sbo bytes apart along K. Address bits 4-6 are XORed with bits 7-9 (the swizzle), here on
// host addresses as on the GPU's shared window. The operands are in shared memory, so each thread
// computes its own accumulators (thread t of the warpgroup: warp w = t / 32, lane l; d[i] is
// D[16 w + l / 4 + 8 ((i / 2) % 2)][8 (i / 4) + 2 (l % 4) + i % 2]). The MMA completes when
// issued: the model cannot catch a missing wgmma.wait_group or fence.
inline void wgmma_sw128(float* d, int n, const void* a, bool a_mn, int a_lbo, int a_sbo,
                        const void* b, bool b_mn, int b_lbo, int b_sbo, int kind) {
  Runtime& r = rt();
  const auto pa = reinterpret_cast<std::uintptr_t>(a), pb = reinterpret_cast<std::uintptr_t>(b);
  if ((pa & 0x38Fu) || (pb & 0x38Fu))
    return fault("wgmma: a 128-byte-swizzled operand must start 16-byte aligned in the first row "
                 "of a 1024-byte atom");
  if (blockDim.x * blockDim.y * blockDim.z % 128)
    return fault("wgmma: the block must consist of whole warpgroups (128 threads)");
  const auto lo = reinterpret_cast<std::uintptr_t>(r.dsmem.data());
  const auto hi = lo + r.dsmem.size();
  bool outside = false;
  auto elem = [&](std::uintptr_t start, bool mn, int lbo, int sbo, int row, int k) {
    std::uintptr_t addr =
        mn ? start + std::uintptr_t(row / 64) * lbo + std::uintptr_t(k / 8) * sbo +
                 std::uintptr_t(k % 8) * 128 + std::uintptr_t(row % 64) * 2
           : start + std::uintptr_t(row / 8) * sbo + std::uintptr_t(row % 8) * 128 +
                 std::uintptr_t(2 * k);
    addr ^= ((addr >> 7) & 7u) << 4;
    if (addr < lo || addr + 2 > hi) {
      outside = true;
      return 0.f;
    }
    unsigned short h;
    std::memcpy(&h, reinterpret_cast<const void*>(addr), 2);
    return kind == kMmaBF16 ? bf16_bits_to_float(h) : half_bits_to_float(h);
  };
  const Fiber& f = *r.cur;
  const int w = int(f.warp % 4), l = int(f.lane);
  for (int i = 0; i < n / 2; ++i) {
    const int row = 16 * w + l / 4 + 8 * ((i / 2) % 2), col = 8 * (i / 4) + 2 * (l % 4) + i % 2;
    float s = d[i];
    for (int k = 0; k < 16; ++k)
      s += elem(pa, a_mn, a_lbo, a_sbo, row, k) * elem(pb, b_mn, b_lbo, b_sbo, col, k);
    d[i] = s;
  }
  if (outside) fault("wgmma: operand tile outside the block's dynamic shared memory");
}

// cvt.rna.tf32.f32: round to 10 mantissa bits, ties away from zero; the low 13 bits become 0.
inline unsigned cvt_rna_tf32(float x) {
  unsigned u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return (u & 0x007fffffu) ? 0x7fffffffu : u;  // NaN / inf
  return (u + 0x1000u) & ~0x1FFFu;
}
// float -> bfloat16 bits, round to nearest even (__float2bfloat16_rn).
inline unsigned short float_to_bf16_bits(float x) {
  unsigned u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return 0x7fc0;
  return static_cast<unsigned short>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

inline void fiber_entry() {
  Runtime& r = rt();
  r.body();
  Fiber& f = *r.cur;
  f.done = true;
  ++r.progress;
  // An exited thread no longer holds up block or warp barriers.
  --r.live;
  if (r.bar_count > 0 && r.bar_count == r.live) {
    r.bar_count = 0;
    r.bar_acc[(r.bar_gen & 1) ^ 1] = 0;
    ++r.bar_gen;
  }
  Warp& w = r.warps[f.warp];
  --w.live;
  w.live_mask &= ~(1u << f.lane);
  if (w.count > 0 && w.count == w.live) release_warp(w);
#if TL_EMU_FAST_SWITCH
  tl_emu_switch_stack(&f.sp, r.sched_sp);  // never resumed
  __builtin_unreachable();
#endif
  // ucontext: returning switches to uc_link (the scheduler)
}

inline size_t stack_bytes() {
  static size_t s = [] {
    const char* e = std::getenv("TL_EMU_STACK_KB");
    size_t kb = e ? std::strtoul(e, nullptr, 10) : 256;
    return (kb < 16 ? 16 : kb) * 1024;
  }();
  return s;
}

inline bool ensure_fibers(unsigned n) {
  Runtime& r = rt();
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  const size_t ss = stack_bytes();
  if (r.fibers.size() < n) r.fibers.resize(n);
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = r.fibers[i];
    if (f.stack) continue;
    // one guard page below each stack turns an overflow into a crash instead of corruption
    void* p = mmap(nullptr, ss + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    mprotect(p, page, PROT_NONE);
    f.stack = static_cast<char*>(p) + page;
    f.stack_size = ss;
  }
  return true;
}

// Runs `body` as a grid of blocks. Returns 0 on success, else an error code (message in error()).
inline int launch(const unsigned* grid, const unsigned* block, unsigned long long smem,
                  std::function<void()> body) {
  std::lock_guard<std::mutex> lock(launch_mutex());
  Runtime& r = rt();
  r.error.clear();
  r.fault.clear();
  const unsigned long long nthreads = 1ull * block[0] * block[1] * block[2];
  if (nthreads == 0 || nthreads > 1024 || block[2] > 64) {
    r.error = "invalid block shape (need 1..1024 threads, z <= 64)";
    return 1;
  }
  if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0 || grid[1] > 65535 || grid[2] > 65535) {
    r.error = "invalid grid shape";
    return 1;
  }
  if (smem > 232448) {
    r.error = "dynamic shared memory above 227 KiB (sm_90 limit)";
    return 1;
  }
  if (!ensure_fibers(unsigned(nthreads))) { r.error = "mmap of fiber stacks failed"; return 1; }
  blockDim = dim3(block[0], block[1], block[2]);
  gridDim = dim3(grid[0], grid[1], grid[2]);
  r.body = std::move(body);
  const unsigned nwarps = unsigned((nthreads + 31) / 32);
  r.warps.assign(nwarps, Warp{});
  r.dsmem.assign(size_t(smem) + 16, 0);
  for (unsigned bz = 0; bz < grid[2]; ++bz)
    for (unsigned by = 0; by < grid[1]; ++by)
      for (unsigned bx = 0; bx < grid[0]; ++bx) {
        blockIdx = uint3{bx, by, bz};
        // shared memory is garbage on the GPU: poison the dynamic part with NaN bytes
        std::memset(r.dsmem.data(), 0xff, r.dsmem.size());
        r.live = unsigned(nthreads);
        r.bar_count = 0;
        r.bar_acc[0] = r.bar_acc[1] = 0;
        for (unsigned w = 0; w < nwarps; ++w) {
          Warp& wp = r.warps[w];
          wp.count = 0;
          wp.part[0] = wp.part[1] = 0;
          wp.live = std::min(32u, unsigned(nthreads - 32ull * w));
          wp.live_mask = wp.live == 32 ? 0xffffffffu : ((1u << wp.live) - 1u);
        }
        for (unsigned t = 0; t < nthreads; ++t) {
          Fiber& f = r.fibers[t];
          f.tid = uint3{t % block[0], (t / block[0]) % block[1], t / (block[0] * block[1])};
          f.warp = t / 32;
          f.lane = t % 32;
          f.done = false;
          f.cp_open.clear();
          f.cp_groups.clear();
#if TL_EMU_FAST_SWITCH
          // initial frame popped by tl_emu_switch_stack: MXCSR/x87 CW, r15..rbp, return address
          auto top = (reinterpret_cast<std::uintptr_t>(f.stack) + f.stack_size) & ~std::uintptr_t(15);
          auto* w64 = reinterpret_cast<std::uint64_t*>(top);
          w64[-1] = 0;
          w64[-2] = reinterpret_cast<std::uint64_t>(&fiber_entry);
          for (int k = 3; k <= 8; ++k) w64[-k] = 0;
          std::uint32_t* ctl = reinterpret_cast<std::uint32_t*>(&w64[-9]);
          ctl[0] = 0x1F80u;  // MXCSR default
          ctl[1] = 0x037Fu;  // x87 control word default
          f.sp = &w64[-9];
#else
          getcontext(&f.ctx);
          f.ctx.uc_stack.ss_sp = f.stack;
          f.ctx.uc_stack.ss_size = f.stack_size;
          f.ctx.uc_link = &r.sched;
          makecontext(&f.ctx, fiber_entry, 0);
#endif
        }
        while (r.live > 0) {
          const unsigned long long p0 = r.progress;
          for (unsigned t = 0; t < nthreads; ++t) {
            Fiber& f = r.fibers[t];
            if (f.done) continue;
            r.cur = &f;
            threadIdx = f.tid;
#if TL_EMU_FAST_SWITCH
            tl_emu_switch_stack(&r.sched_sp, f.sp);
#else
            swapcontext(&r.sched, &f.ctx);
#endif
          }
          if (r.live > 0 && r.progress == p0) {
            char buf[160];
            std::snprintf(buf, sizeof buf,
                          "deadlock in block (%u,%u,%u): %u live threads wait at barriers that can "
                          "never complete (divergent __syncthreads or warp collective?)",
                          bx, by, bz, r.live);
            r.error = buf;
            r.cur = nullptr;
            return 2;
          }
        }
        if (!r.fault.empty()) {
          char buf[64];
          std::snprintf(buf, sizeof buf, " (block (%u,%u,%u))", bx, by, bz);
          r.error = r.fault + buf;
          r.cur = nullptr;
          r.body = nullptr;
          return 4;
        }
      }
  r.cur = nullptr;
  r.body = nullptr;
  return 0;
}

inline unsigned char* dynamic_smem() {
  // 16-byte aligned like `extern __shared__ __align__(16)`
  auto p = reinterpret_cast<std::uintptr_t>(rt().dsmem.data());
  return reinterpret_cast<unsigned char*>((p + 15) & ~std::uintptr_t(15));
}

// ---- signature description used by build.py: kind per parameter
// 0 pointer, 1 signed integer, 2 unsigned integer / bool, 3 floating point, 4 other (struct)
template <class T>
constexpr int kind_of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_pointer_v<U>) return 0;
  else if constexpr (std::is_floating_point_v<U>) return 3;
  else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) return 1;
  else if constexpr (std::is_integral_v<U>) return 2;
  else return 4;
}

template <class... P>
int signature(void (*)(P...), int* out, int cap) {
  constexpr int n = int(sizeof...(P));
  const int kinds[] = {kind_of<P>()..., 0};
  const int sizes[] = {int(sizeof(P))..., 0};
  for (int i = 0; i < n && 2 * i + 1 < cap; ++i) { out[2 * i] = kinds[i]; out[2 * i + 1] = sizes[i]; }
  return n;
}

template <class... P, size_t... I>
int launch_impl(void (*fn)(P...), const unsigned* g, const unsigned* b, unsigned long long smem,
                void** args, std::index_sequence<I...>) {
  std::tuple<std::remove_cv_t<P>...> vals{*static_cast<std::remove_cv_t<P>*>(args[I])...};
  return launch(g, b, smem, [fn, &vals] { fn(std::get<I>(vals)...); });
}

template <class... P>
int launch_fn(void (*fn)(P...), const unsigned* g, const unsigned* b, unsigned long long smem, void** args) {
  if (fn == nullptr) { rt().error = "kernel is exempt from emulation (compiled out under TL_EMULATION)"; return 3; }
  return launch_impl(fn, g, b, smem, args, std::index_sequence_for<P...>{});
}

}  // namespace tl_emu


// ---------------------------------------------------------------- synchronization
inline void __syncthreads() { tl_emu::block_barrier(0); }
inline int __syncthreads_count(int p) { return tl_emu::block_barrier(p ? 1 : 0); }
inline int __syncthreads_or(int p) { return tl_emu::block_barrier(p ? 1 : 0) != 0; }
inline int __syncthreads_and(int p) {
  const unsigned n = tl_emu::rt().live;
  return unsigned(tl_emu::block_barrier(p ? 1 : 0)) == n;
}
inline void __syncwarp(unsigned = 0xffffffffu) {
  auto& r = tl_emu::rt();
  tl_emu::warp_barrier(r.warps[r.cur->warp]);
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline unsigned __activemask() { auto& r = tl_emu::rt(); return r.warps[r.cur->warp].live_mask; }
inline unsigned __lanemask_lt() { return (1u << tl_emu::lane_id()) - 1u; }
inline void __nanosleep(unsigned) {}
inline long long clock64() { static long long c = 0; return ++c; }
// clock() is the C library one here.

// ---------------------------------------------------------------- warp collectives
// The mask is not checked: every live lane of the warp must reach the call (convergent code).
template <class T>
inline T __shfl_sync(unsigned, T v, int src, int width = 32) {
  const int lane = int(tl_emu::lane_id());
  const int base = lane & ~(width - 1);
  return tl_emu::warp_exchange(v, base + (src & (width - 1)));
}
template <class T>
inline T __shfl_xor_sync(unsigned, T v, int mask, int width = 32) {
  const int lane = int(tl_emu::lane_id());
  int src = lane ^ mask;
  if ((src & ~(width - 1)) != (lane & ~(width - 1))) src = lane;
  return tl_emu::warp_exchange(v, src);
}
template <class T>
inline T __shfl_down_sync(unsigned, T v, unsigned d, int width = 32) {
  const int lane = int(tl_emu::lane_id());
  int src = lane + int(d);
  if ((src & ~(width - 1)) != (lane & ~(width - 1))) src = lane;
  return tl_emu::warp_exchange(v, src);
}
template <class T>
inline T __shfl_up_sync(unsigned, T v, unsigned d, int width = 32) {
  const int lane = int(tl_emu::lane_id());
  int src = lane - int(d);
  if (src < 0 || (src & ~(width - 1)) != (lane & ~(width - 1))) src = lane;
  return tl_emu::warp_exchange(v, src);
}
inline unsigned __ballot_sync(unsigned mask, int p) { return tl_emu::warp_ballot(p) & mask; }
inline int __any_sync(unsigned mask, int p) { return (tl_emu::warp_ballot(p) & mask) != 0; }
inline int __all_sync(unsigned mask, int p) {
  auto& r = tl_emu::rt();
  const unsigned live = r.warps[r.cur->warp].live_mask & mask;
  return (tl_emu::warp_ballot(p) & live) == live;
}

// ---------------------------------------------------------------- atomics
// Fibers never interleave inside one call, so a plain read-modify-write is atomic here.
#define TL_EMU_ATOMIC(NAME, EXPR)                                   \
  template <class T, class U> inline T NAME(T* a, U v_) {           \
    T v = T(v_); T old = *a; *a = (EXPR); return old; }
TL_EMU_ATOMIC(atomicAdd, old + v)
TL_EMU_ATOMIC(atomicSub, old - v)
TL_EMU_ATOMIC(atomicExch, v)
TL_EMU_ATOMIC(atomicMax, old < v ? v : old)
TL_EMU_ATOMIC(atomicMin, v < old ? v : old)
TL_EMU_ATOMIC(atomicAnd, old & v)
TL_EMU_ATOMIC(atomicOr, old | v)
TL_EMU_ATOMIC(atomicXor, old ^ v)
#undef TL_EMU_ATOMIC
template <class T, class U, class V> inline T atomicCAS(T* a, U cmp, V val) {
  T old = *a; if (old == T(cmp)) *a = T(val); return old;
}
inline unsigned atomicInc(unsigned* a, unsigned v) { unsigned o = *a; *a = (o >= v) ? 0 : o + 1; return o; }
inline unsigned atomicDec(unsigned* a, unsigned v) { unsigned o = *a; *a = (o == 0 || o > v) ? v : o - 1; return o; }
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd

// ---------------------------------------------------------------- loads / misc intrinsics
template <class T> inline T __ldg(const T* p) { return *p; }
template <class T> inline T __ldcg(const T* p) { return *p; }
template <class T> inline T __ldca(const T* p) { return *p; }
template <class T> inline T __ldcs(const T* p) { return *p; }
template <class T> inline T __ldlu(const T* p) { return *p; }
template <class T> inline void __stcg(T* p, T v) { *p = v; }
template <class T> inline void __stcs(T* p, T v) { *p = v; }
template <class T> inline void __stwb(T* p, T v) { *p = v; }

inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
inline double __longlong_as_double(long long i) { double f; std::memcpy(&f, &i, 8); return f; }
inline long long __double_as_longlong(double f) { long long i; std::memcpy(&i, &f, 8); return i; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(unsigned(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0; for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i); return r;
}
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((1ull * a * b) >> 32); }
inline int __mulhi(int a, int b) { return int((1ll * a * b) >> 32); }
inline int __mul24(int a, int b) { return a * b; }
inline unsigned __umul24(unsigned a, unsigned b) { return a * b; }

// ---------------------------------------------------------------- math
// float versions of <cmath> (expf, logf, tanhf, erff, ...) come from the C library.
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return exp10f(x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __powf(float a, float b) { return powf(a, b); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) { *s = sinf(x); *c = cosf(x); }
inline float __tanhf(float x) { return tanhf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline float __saturatef(float x) { return x != x ? 0.0f : (x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x)); }
inline float normcdff(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }
inline double normcdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752); }
inline float exp10f_(float x) { return exp10f(x); }
inline int __float2int_rn(float x) { return int(nearbyintf(x)); }
inline int __float2int_rz(float x) { return int(x); }
inline int __float2int_rd(float x) { return int(floorf(x)); }
inline int __float2int_ru(float x) { return int(ceilf(x)); }
inline float __int2float_rn(int x) { return float(x); }
inline float __uint2float_rn(unsigned x) { return float(x); }
inline long long __float2ll_rn(float x) { return (long long)nearbyintf(x); }
inline float __ll2float_rn(long long x) { return float(x); }
inline float __double2float_rn(double x) { return float(x); }
inline int __double2int_rn(double x) { return int(nearbyint(x)); }

// CUDA's device-side min/max overloads (global namespace).
#define TL_EMU_MINMAX(T) \
  inline T min(T a, T b) { return b < a ? b : a; } inline T max(T a, T b) { return a < b ? b : a; }
TL_EMU_MINMAX(int)
TL_EMU_MINMAX(unsigned int)
TL_EMU_MINMAX(long)
TL_EMU_MINMAX(unsigned long)
TL_EMU_MINMAX(long long)
TL_EMU_MINMAX(unsigned long long)
#undef TL_EMU_MINMAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// half <-> float bit conversions used by common.cuh (the GPU build uses cvt PTX there).
inline float tl_emu_half_bits_to_float(unsigned short h) { _Float16 v; std::memcpy(&v, &h, 2); return float(v); }
inline unsigned short tl_emu_float_to_half_bits(float f) {
  _Float16 v = _Float16(f); unsigned short h; std::memcpy(&h, &v, 2); return h;
}
