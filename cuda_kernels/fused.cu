// fused.cu -- bias + activation (forward / backward) and one-kernel optimizer updates.
//
// Bias + activation: y = act(x + bias) on a row-major (.., C) array, bias over the last axis
// (NHWC channels). act codes (tensorlab/backend/cuda/kernels/fused.py keeps the same table):
//   0 linear, 1 relu, 2 gelu (approximate != 0: tanh form, else exact erf), 3 silu, 4 sigmoid, 5 tanh.
// Backward gives dz = dy * act'(x + bias); the bias gradient is a column sum of dz (reduce.cu).
// Elementwise kernels use 16-byte packs when C is a multiple of the pack and every pointer is
// 16-byte aligned, else scalar; grid-stride loops.
#include "common.cuh"

enum { TL_ACT_LINEAR = 0, TL_ACT_RELU = 1, TL_ACT_GELU = 2, TL_ACT_SILU = 3, TL_ACT_SIGMOID = 4, TL_ACT_TANH = 5 };

__device__ __forceinline__ float tl_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double tl_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float tl_erf(float x) { return erff(x); }
__device__ __forceinline__ double tl_erf(double x) { return erf(x); }
__device__ __forceinline__ float tl_expo(float x) { return expf(x); }
__device__ __forceinline__ double tl_expo(double x) { return exp(x); }

template <class T> __device__ __forceinline__ T tl_sigmoid(T x) { return T(1) / (T(1) + tl_expo(-x)); }

// act(z); NaN propagates (relu included, like numpy maximum).
template <class T>
__device__ __forceinline__ T tl_act(T z, int act, int approximate) {
  switch (act) {
    case TL_ACT_RELU: return z < T(0) ? T(0) : z;
    case TL_ACT_GELU:
      if (approximate) {
        const T u = T(0.7978845608028654) * (z + T(0.044715) * z * z * z);
        return T(0.5) * z * (T(1) + tl_tanh(u));
      }
      return T(0.5) * z * (T(1) + tl_erf(z * T(0.7071067811865476)));
    case TL_ACT_SILU: return z * tl_sigmoid(z);
    case TL_ACT_SIGMOID: return tl_sigmoid(z);
    case TL_ACT_TANH: return tl_tanh(z);
    default: return z;
  }
}

// d act / dz.
template <class T>
__device__ __forceinline__ T tl_act_grad(T z, int act, int approximate) {
  switch (act) {
    case TL_ACT_RELU: return z > T(0) ? T(1) : (z != z ? z : T(0));
    case TL_ACT_GELU:
      if (approximate) {
        const T k0 = T(0.7978845608028654), k1 = T(0.044715);
        const T t = tl_tanh(k0 * (z + k1 * z * z * z));
        return T(0.5) * (T(1) + t) + T(0.5) * z * (T(1) - t * t) * k0 * (T(1) + T(3) * k1 * z * z);
      }
      return T(0.5) * (T(1) + tl_erf(z * T(0.7071067811865476))) +
             z * tl_expo(T(-0.5) * z * z) * T(0.3989422804014327);
    case TL_ACT_SILU: {
      const T s = tl_sigmoid(z);
      return s * (T(1) + z * (T(1) - s));
    }
    case TL_ACT_SIGMOID: {
      const T s = tl_sigmoid(z);
      return s * (T(1) - s);
    }
    case TL_ACT_TANH: {
      const T t = tl_tanh(z);
      return T(1) - t * t;
    }
    default: return T(1);
  }
}

// kBwd false: out = act(x + b).  kBwd true: out = dy * act'(x + b).
template <bool kBwd, class T>
__device__ __forceinline__ void tl_bias_act(const T* __restrict__ dy, const T* __restrict__ x,
                                            const T* __restrict__ bias, T* __restrict__ out, long long n,
                                            long long C, int act, int approximate) {
  constexpr int V = 16 / sizeof(T);
  const bool pack = C % V == 0 && tl_is_aligned(x, 16) && tl_is_aligned(out, 16) &&
                    (bias == nullptr || tl_is_aligned(bias, 16)) && (!kBwd || tl_is_aligned(dy, 16));
  if (pack) {
    const long long np = n / V;
    for (long long p = tl_global_thread_id(); p < np; p += tl_grid_stride()) {
      const long long i = p * V;
      TlPack<T> xv = *reinterpret_cast<const TlPack<T>*>(x + i);
      TlPack<T> bv, gv;
      if (bias) bv = *reinterpret_cast<const TlPack<T>*>(bias + i % C);
      if (kBwd) gv = *reinterpret_cast<const TlPack<T>*>(dy + i);
      TlPack<T> o;
#pragma unroll
      for (int k = 0; k < V; ++k) {
        const T z = bias ? xv.v[k] + bv.v[k] : xv.v[k];
        o.v[k] = kBwd ? gv.v[k] * tl_act_grad(z, act, approximate) : tl_act(z, act, approximate);
      }
      *reinterpret_cast<TlPack<T>*>(out + i) = o;
    }
  } else {
    for (long long i = tl_global_thread_id(); i < n; i += tl_grid_stride()) {
      const T z = bias ? x[i] + bias[i % C] : x[i];
      out[i] = kBwd ? dy[i] * tl_act_grad(z, act, approximate) : tl_act(z, act, approximate);
    }
  }
}

#define TL_BIAS_ACT_KERNELS(SUF, T)                                                                          \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_bias_act_fwd_##SUF(                                  \
      const T* __restrict__ x, const T* __restrict__ bias, T* __restrict__ y, long long n, long long C,      \
      int act, int approximate) {                                                                            \
    tl_bias_act<false, T>(nullptr, x, bias, y, n, C, act, approximate);                                     \
  }                                                                                                          \
  extern "C" __global__ void __launch_bounds__(256, 4) tl_bias_act_bwd_##SUF(                                  \
      const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ bias, T* __restrict__ dz,    \
      long long n, long long C, int act, int approximate) {                                                  \
    tl_bias_act<true, T>(dy, x, bias, dz, n, C, act, approximate);                                          \
  }

TL_BIAS_ACT_KERNELS(f32, float)
TL_BIAS_ACT_KERNELS(f64, double)

// ------------------------------------------------------------------------------ optimizers
// SGD with momentum, Keras convention: m = momentum*m - lr*g; p += m (nesterov:
// p += momentum*m - lr*g). m may be null when momentum == 0 (then p -= lr*g).
// weight decay: decoupled != 0 -> p -= lr*wd*p first (Keras 3 / AdamW style), else g += wd*p.
// Returns (new p, new m).
__device__ __forceinline__ float2 tl_sgd_one(float p, float g, float m, bool has_m, float lr, float momentum,
                                             float wd, int decoupled, int nesterov) {
  if (wd != 0.f) {
    if (decoupled) p -= lr * wd * p;
    else g += wd * p;
  }
  if (has_m) {
    m = momentum * m - lr * g;
    p += nesterov ? momentum * m - lr * g : m;
  } else {
    p -= lr * g;
  }
  return make_float2(p, m);
}

// Reads param (and mom) and writes param_out (and mom_out): the outputs may be the inputs (in
// place) or fresh buffers (the primitives' value semantics, without copying the inputs first).
extern "C" __global__ void __launch_bounds__(256, 4) tl_sgd_momentum_update_f32(
    const float* param, const float* __restrict__ grad, const float* mom, float* param_out, float* mom_out,
    long long n, float lr, float momentum, float weight_decay, int decoupled, int nesterov) {
  const bool hm = mom != nullptr;
  const bool pack = tl_is_aligned(param, 16) && tl_is_aligned(grad, 16) && tl_is_aligned(param_out, 16) &&
                    (!hm || (tl_is_aligned(mom, 16) && tl_is_aligned(mom_out, 16)));
  const long long np = pack ? n / 4 : 0;
  for (long long q = tl_global_thread_id(); q < np; q += tl_grid_stride()) {
    const float4 p = tl_load_float4(param + 4 * q);
    const float4 g = tl_load_float4(grad + 4 * q);
    const float4 m = hm ? tl_load_float4(mom + 4 * q) : make_float4(0.f, 0.f, 0.f, 0.f);
    const float2 rx = tl_sgd_one(p.x, g.x, m.x, hm, lr, momentum, weight_decay, decoupled, nesterov);
    const float2 ry = tl_sgd_one(p.y, g.y, m.y, hm, lr, momentum, weight_decay, decoupled, nesterov);
    const float2 rz = tl_sgd_one(p.z, g.z, m.z, hm, lr, momentum, weight_decay, decoupled, nesterov);
    const float2 rw = tl_sgd_one(p.w, g.w, m.w, hm, lr, momentum, weight_decay, decoupled, nesterov);
    tl_store_float4(param_out + 4 * q, make_float4(rx.x, ry.x, rz.x, rw.x));
    if (hm) tl_store_float4(mom_out + 4 * q, make_float4(rx.y, ry.y, rz.y, rw.y));
  }
  for (long long i = 4 * np + tl_global_thread_id(); i < n; i += tl_grid_stride()) {
    const float2 r = tl_sgd_one(param[i], grad[i], hm ? mom[i] : 0.f, hm, lr, momentum, weight_decay, decoupled,
                                nesterov);
    param_out[i] = r.x;
    if (hm) mom_out[i] = r.y;
  }
}

// Adam / AdamW / AMSGrad, one element:
//   g += wd*p (decoupled == 0)   or   p -= lr*wd*p (decoupled != 0, AdamW)
//   m = beta1*m + (1-beta1)*g;  (1-beta passed in, computed in double by the launcher)  v = beta2*v + (1-beta2)*g^2;  amsgrad: vhat = max(vhat, v), use vhat
//   p -= step_size * m / (sqrt(v) * inv_sqrt_bc2 + eps)
// The launcher folds bias correction into step_size and inv_sqrt_bc2:
//   PyTorch form: step_size = lr / (1 - beta1^t),                  inv_sqrt_bc2 = 1/sqrt(1 - beta2^t)
//   Keras form:   step_size = lr * sqrt(1 - beta2^t) / (1 - beta1^t), inv_sqrt_bc2 = 1
__device__ __forceinline__ void tl_adam_one(float& p, float g, float& m, float& v, float& vhat, bool ams, float lr,
                                            float beta1, float beta2, float omb1, float omb2, float eps,
                                            float step_size, float inv_sqrt_bc2, float wd, int decoupled) {
  if (wd != 0.f) {
    if (decoupled) p -= lr * wd * p;
    else g += wd * p;
  }
  m = fmaf(beta1, m, omb1 * g);
  v = fmaf(beta2, v, omb2 * g * g);
  float vu = v;
  if (ams) {
    vu = fmaxf(vhat, v);
    vhat = vu;
  }
  p -= step_size * m / (sqrtf(vu) * inv_sqrt_bc2 + eps);
}

// As tl_sgd_momentum_update_f32, the *_out buffers may be the inputs or fresh buffers.
extern "C" __global__ void __launch_bounds__(256, 4) tl_adam_update_f32(
    const float* param, const float* __restrict__ grad, const float* m_slot, const float* v_slot,
    const float* vhat_slot, float* param_out, float* m_out, float* v_out, float* vhat_out, long long n, float lr,
    float beta1, float beta2, float one_minus_beta1, float one_minus_beta2, float eps, float step_size,
    float inv_sqrt_bc2, float weight_decay, int decoupled, int amsgrad) {
  const float* vh = amsgrad ? vhat_slot : nullptr;
  const bool pack = tl_is_aligned(param, 16) && tl_is_aligned(grad, 16) && tl_is_aligned(m_slot, 16) &&
                    tl_is_aligned(v_slot, 16) && tl_is_aligned(param_out, 16) && tl_is_aligned(m_out, 16) &&
                    tl_is_aligned(v_out, 16) && (vh == nullptr || (tl_is_aligned(vh, 16) && tl_is_aligned(vhat_out, 16)));
  const long long np = pack ? n / 4 : 0;
  for (long long q = tl_global_thread_id(); q < np; q += tl_grid_stride()) {
    float4 p = tl_load_float4(param + 4 * q);
    const float4 g = tl_load_float4(grad + 4 * q);
    float4 m = tl_load_float4(m_slot + 4 * q);
    float4 v = tl_load_float4(v_slot + 4 * q);
    float4 h = vh ? tl_load_float4(vh + 4 * q) : make_float4(0.f, 0.f, 0.f, 0.f);
    const bool ams = vh != nullptr;
    tl_adam_one(p.x, g.x, m.x, v.x, h.x, ams, lr, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, step_size, inv_sqrt_bc2, weight_decay, decoupled);
    tl_adam_one(p.y, g.y, m.y, v.y, h.y, ams, lr, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, step_size, inv_sqrt_bc2, weight_decay, decoupled);
    tl_adam_one(p.z, g.z, m.z, v.z, h.z, ams, lr, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, step_size, inv_sqrt_bc2, weight_decay, decoupled);
    tl_adam_one(p.w, g.w, m.w, v.w, h.w, ams, lr, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, step_size, inv_sqrt_bc2, weight_decay, decoupled);
    tl_store_float4(param_out + 4 * q, p);
    tl_store_float4(m_out + 4 * q, m);
    tl_store_float4(v_out + 4 * q, v);
    if (vh) tl_store_float4(vhat_out + 4 * q, h);
  }
  for (long long i = 4 * np + tl_global_thread_id(); i < n; i += tl_grid_stride()) {
    float p = param[i], m = m_slot[i], v = v_slot[i], h = vh ? vh[i] : 0.f;
    tl_adam_one(p, grad[i], m, v, h, vh != nullptr, lr, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, step_size, inv_sqrt_bc2,
                weight_decay, decoupled);
    param_out[i] = p;
    m_out[i] = m;
    v_out[i] = v;
    if (vh) vhat_out[i] = h;
  }
}
