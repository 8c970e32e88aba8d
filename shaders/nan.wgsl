// NaN-aware helpers: a NaN test on the bits, and ReLU with PyTorch's NaN semantics. Included
// (`//!include "nan.wgsl"`), not a kernel.
//
//   apply_relu(x) = x   if x > 0 or x is NaN, else 0   relu(NaN) = NaN, relu(+Inf) = +Inf, relu(-Inf) = 0
//   relu_pass(y)  = y > 0 or y is NaN                  the backward: dx = relu_pass(y) ? dy : 0, with
//                                                      y = the ReLU's output (PyTorch's threshold_backward:
//                                                      y <= 0 ? 0 : dy, so a NaN y passes dy through)
//
// Rules a reader must know:
// - Never write max(x, 0) for a ReLU: WGSL lets max() return either operand when one is NaN,
//   and SwiftShader's returns 0, so NaN would silently become 0.
// - A compiler may assume no NaN reaches a float comparison (fast math), so a comparison alone
//   (`x > 0`, `!(x <= 0)`) says nothing reliable about NaN. `is_nan` reads the bits instead
//   (exponent all ones, mantissa non-zero), and every condition here is `comparison || is_nan`:
//   right whatever the comparison gives for NaN.

// (Parameters are named `val`, not x or y: the reflection that derives bind group layouts
// takes a parameter named like an includer's buffer for a use of that buffer.)

fn is_nan(val: f32) -> bool {
  return (bitcast<u32>(val) & 0x7fffffffu) > 0x7f800000u;
}

fn is_nan4(val: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(val) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}

fn relu_pass(val: f32) -> bool {
  return val > 0.0 || is_nan(val);
}

fn relu_pass4(val: vec4<f32>) -> vec4<bool> {
  return (val > vec4<f32>(0.0)) | is_nan4(val);
}

fn apply_relu(val: f32) -> f32 {
  return select(0.0, val, relu_pass(val));
}

fn apply_relu4(val: vec4<f32>) -> vec4<f32> {
  return select(vec4<f32>(0.0), val, relu_pass4(val));
}
