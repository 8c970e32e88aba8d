// conv2d as a register-blocked direct convolution, without workgroup memory: forward, and
// (for stride 1) the input gradient, which is the same loop over dy with the flipped filter.
// Built for CPU implementations (SwiftShader), where a load with a computed index costs
// ~10 ns per group of 4 lanes (emulated lane by lane), a vec4 multiply-add ~1-3 ns, and a
// workgroup barrier stalls the whole group; so: no shared memory, few loads per FMA.
//
// in: [N,IH,IW,CI]   wt: a strided view of the filter (see below)   out: [N,OH,OW,CO]
//
//   out[n,oh,ow,co] = sum_{kh,kw,ci} in[n, oh·SH - pad_t + kh·DH, ow·SW - pad_l + kw·DW, ci]
//                                    · wt[w_base + kh·w_kh + kw·w_kw + ci·w_ci + co·w_co]
//   forward:         in = x,  out = y,  wt = w at ((kh·KW + kw)·C + c)·O + o
//   input gradient:  in = dy, out = dx, wt = w flipped: w[KH-1-kh, KW-1-kw, co, ci], stride 1,
//                    pad = (K-1)·dil - pad (the output is the full H x W)
//
// Work split: a thread owns a block of RH output rows x RW consecutive pixels and 16 output
// channels (RH·RW·4 vec4 accumulators). The 4 lanes of a quad own 4 neighbouring blocks and
// the same 16 channels, so they need the same weights: each lane loads 4 of them (a vec4) and
// quad swaps hand them round (slot s of lane i holds lane (i ^ s)'s channels; a swap is one
// register shuffle). Per input channel ci a lane loads the R = (RH-1)·SH + (KH-1)·DH + 1
// input rows its block touches, L = (RW-1)·SW + (KW-1)·DW + 1 values each, and the 4·KH·KW
// weights, then does 4·RH·RW·KH·KW vec4 multiply-adds: every input value is loaded once
// per ci and reused for all taps that read it.
//
// Everything inside the ci loop is unrolled by hand: RW, RH, KH, KW, SW, SH... are override
// constants, so register indices are compile-time constants and the guards on them fold
// away. All KH·KW taps of one (pixel, channel slot) are summed before they touch the
// accumulator, as a chain of fused multiply-adds (one accumulator update per input channel;
// the accumulators live mostly in memory, there are 16 SSE registers). Measured on LeNet conv2
// (b64): 4-7 % faster than one update per tap row in Chromium, 1-22 % in Node.
// Requires quads of consecutive invocations (subgroup size >= 4, 1-D workgroup). Host-checked
// limits: see src/ops/conv2d/direct.ts.

enable subgroups;

override RW: u32 = 7;  // output pixels per thread along a row, 1..8
override RH: u32 = 1;  // output rows per thread, 1..4
override KH: u32 = 3;  // filter rows, 1..5
override KW: u32 = 3;  // filter taps along a row, 1..5
override SH: u32 = 1;  // strides and dilations
override SW: u32 = 1;
override DH: u32 = 1;
override DW: u32 = 1;
override WG: u32 = 64; // threads per workgroup, a multiple of 4
override HAS_BIAS: bool = false;
override RELU: bool = false;

override L: u32 = (RW - 1u) * SW + (KW - 1u) * DW + 1u; // strip length, <= 16
override R: u32 = (RH - 1u) * SH + (KH - 1u) * DH + 1u; // input rows per block, <= 10

struct DirectParams {
  N: i32, IH: i32, IW: i32, CI: i32, OH: i32, OW: i32, CO: i32,
  pad_t: i32, pad_l: i32,
  w_base: i32, w_kh: i32, w_kw: i32, w_ci: i32, w_co: i32,
  strips: u32,   // strips per output row: ceil(OW / RW)
  rgroups: u32,  // row groups per image: ceil(OH / RH)
  oblocks: u32,  // ceil(CO / 16)
  nunits: u32,   // N · rgroups · strips: one per thread and channel block
  nquads: u32,   // oblocks · ceil(nunits / 4)
}

@group(0) @binding(0) var<uniform> p: DirectParams;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> outp: array<f32>;

// Accumulators of one output row of the block: acc[4r + s] for pixel r, channel slot s.
// One array per row: the SPIR-V optimiser turns arrays of at most 100 elements with constant
// indices into registers; a larger one would stay in memory.
alias Acc = array<vec4<f32>, 32>;
// The R input rows of the block for one ci: row u at xs[16u + j]. (Too big for registers
// anyway: stays in memory, read with constant offsets.)
alias Rows = array<f32, 160>;

// The weights of one tap row (kh) for one channel slot: B[kw].
struct Taps { b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>, b4: vec4<f32> }

// ---- loads ----

// One input value: lane-masked (padding and row ends read 0).
fn ld(base: i32, j: u32, m: u32) -> f32 {
  let i = max(base + i32(j) * p.CI, 0);
  return select(0.0, inp[i], ((m >> j) & 1u) != 0u);
}

//!include "conv2d/direct_rows.wgsl"
//!include "nan.wgsl"

// Row u of the block: input row ih0 + u, masked when outside the image.
fn load_block_row(xs: ptr<function, Rows>, u: u32, xc: i32, ih0: i32, hmask: u32) {
  let ih = ih0 + i32(u);
  load_row(xs, u, xc + i32(u) * p.IW * p.CI, select(0u, hmask, ih >= 0 && ih < p.IH));
}

// This lane's 4 weights of one tap: index i, channel stride w_co, masked by wm.
fn ldw(i: i32, wm: vec4<bool>) -> vec4<f32> {
  let s = p.w_co;
  return select(vec4<f32>(0.0), vec4<f32>(wt[i], wt[i + s], wt[i + 2 * s], wt[i + 3 * s]), wm);
}

// This lane's weights of tap row kh (index wi at kw = 0).
fn ld_taps(wi: i32, wm: vec4<bool>) -> Taps {
  var t: Taps;
  t.b0 = ldw(wi, wm);
  if (KW > 1u) { t.b1 = ldw(wi + p.w_kw, wm); }
  if (KW > 2u) { t.b2 = ldw(wi + 2 * p.w_kw, wm); }
  if (KW > 3u) { t.b3 = ldw(wi + 3 * p.w_kw, wm); }
  if (KW > 4u) { t.b4 = ldw(wi + 4 * p.w_kw, wm); }
  return t;
}

// ---- sharing round the quad ----

fn swap_x(t: Taps) -> Taps { return Taps(quadSwapX(t.b0), quadSwapX(t.b1), quadSwapX(t.b2), quadSwapX(t.b3), quadSwapX(t.b4)); }
fn swap_y(t: Taps) -> Taps { return Taps(quadSwapY(t.b0), quadSwapY(t.b1), quadSwapY(t.b2), quadSwapY(t.b3), quadSwapY(t.b4)); }
fn swap_d(t: Taps) -> Taps {
  return Taps(quadSwapDiagonal(t.b0), quadSwapDiagonal(t.b1), quadSwapDiagonal(t.b2), quadSwapDiagonal(t.b3), quadSwapDiagonal(t.b4));
}

// ---- multiply-adds ----

// acc + sum over kw of xs[o + kw·DW] · t[kw], as a chain of fused multiply-adds.
fn px_fma(xs: ptr<function, Rows>, o: u32, t: Taps, acc: vec4<f32>) -> vec4<f32> {
  var v = fma(vec4<f32>((*xs)[o]), t.b0, acc);
  if (KW > 1u) { v = fma(vec4<f32>((*xs)[o + DW]), t.b1, v); }
  if (KW > 2u) { v = fma(vec4<f32>((*xs)[o + 2u * DW]), t.b2, v); }
  if (KW > 3u) { v = fma(vec4<f32>((*xs)[o + 3u * DW]), t.b3, v); }
  if (KW > 4u) { v = fma(vec4<f32>((*xs)[o + 4u * DW]), t.b4, v); }
  return v;
}

// acc + every tap of one pixel.
fn px_upd(xs: ptr<function, Rows>, o: u32, t0: Taps, t1: Taps, t2: Taps, t3: Taps, t4: Taps, acc: vec4<f32>) -> vec4<f32> {
  var v = px_fma(xs, o, t0, acc);
  if (KH > 1u) { v = px_fma(xs, o + 16u * DH, t1, v); }
  if (KH > 2u) { v = px_fma(xs, o + 32u * DH, t2, v); }
  if (KH > 3u) { v = px_fma(xs, o + 48u * DH, t3, v); }
  if (KH > 4u) { v = px_fma(xs, o + 64u * DH, t4, v); }
  return v;
}

// One output row (accumulators acc, first input row u), channel slot s, all taps.
fn fma_row_all(acc: ptr<function, Acc>, xs: ptr<function, Rows>, u: u32, s: u32, t0: Taps, t1: Taps, t2: Taps, t3: Taps, t4: Taps) {
  let o = 16u * u;
  (*acc)[s] = px_upd(xs, o, t0, t1, t2, t3, t4, (*acc)[s]);
  if (RW > 1u) { (*acc)[4u + s] = px_upd(xs, o + SW, t0, t1, t2, t3, t4, (*acc)[4u + s]); }
  if (RW > 2u) { (*acc)[8u + s] = px_upd(xs, o + 2u * SW, t0, t1, t2, t3, t4, (*acc)[8u + s]); }
  if (RW > 3u) { (*acc)[12u + s] = px_upd(xs, o + 3u * SW, t0, t1, t2, t3, t4, (*acc)[12u + s]); }
  if (RW > 4u) { (*acc)[16u + s] = px_upd(xs, o + 4u * SW, t0, t1, t2, t3, t4, (*acc)[16u + s]); }
  if (RW > 5u) { (*acc)[20u + s] = px_upd(xs, o + 5u * SW, t0, t1, t2, t3, t4, (*acc)[20u + s]); }
  if (RW > 6u) { (*acc)[24u + s] = px_upd(xs, o + 6u * SW, t0, t1, t2, t3, t4, (*acc)[24u + s]); }
  if (RW > 7u) { (*acc)[28u + s] = px_upd(xs, o + 7u * SW, t0, t1, t2, t3, t4, (*acc)[28u + s]); }
}

// All RH output rows, channel slot s, all taps.
fn slot_all(a0: ptr<function, Acc>, a1: ptr<function, Acc>, a2: ptr<function, Acc>, a3: ptr<function, Acc>,
            xs: ptr<function, Rows>, s: u32, t0: Taps, t1: Taps, t2: Taps, t3: Taps, t4: Taps) {
  fma_row_all(a0, xs, 0u, s, t0, t1, t2, t3, t4);
  if (RH > 1u) { fma_row_all(a1, xs, SH, s, t0, t1, t2, t3, t4); }
  if (RH > 2u) { fma_row_all(a2, xs, 2u * SH, s, t0, t1, t2, t3, t4); }
  if (RH > 3u) { fma_row_all(a3, xs, 3u * SH, s, t0, t1, t2, t3, t4); }
}

// Every tap of one input channel for all 4 channel slots (weights index wi at kh = kw = 0).
fn taps_all(a0: ptr<function, Acc>, a1: ptr<function, Acc>, a2: ptr<function, Acc>, a3: ptr<function, Acc>,
            xs: ptr<function, Rows>, wi: i32, wm: vec4<bool>) {
  let t0 = ld_taps(wi, wm);
  var t1 = t0;
  var t2 = t0;
  var t3 = t0;
  var t4 = t0;
  if (KH > 1u) { t1 = ld_taps(wi + p.w_kh, wm); }
  if (KH > 2u) { t2 = ld_taps(wi + 2 * p.w_kh, wm); }
  if (KH > 3u) { t3 = ld_taps(wi + 3 * p.w_kh, wm); }
  if (KH > 4u) { t4 = ld_taps(wi + 4 * p.w_kh, wm); }
  slot_all(a0, a1, a2, a3, xs, 0u, t0, t1, t2, t3, t4);
  slot_all(a0, a1, a2, a3, xs, 1u, swap_x(t0), swap_x(t1), swap_x(t2), swap_x(t3), swap_x(t4));
  slot_all(a0, a1, a2, a3, xs, 2u, swap_y(t0), swap_y(t1), swap_y(t2), swap_y(t3), swap_y(t4));
  slot_all(a0, a1, a2, a3, xs, 3u, swap_d(t0), swap_d(t1), swap_d(t2), swap_d(t3), swap_d(t4));
}

// ---- stores ----

// 4 channels at out index i (bit k of m: channel k exists), bias and ReLU applied.
fn store4(i: u32, acc: vec4<f32>, b: vec4<f32>, m: u32, relu: bool) {
  var v = acc;
  if (HAS_BIAS) { v += b; }
  if (relu) { v = apply_relu4(v); } // keeps NaN (nan.wgsl)
  if ((m & 1u) != 0u) { outp[i] = v.x; }
  if ((m & 2u) != 0u) { outp[i + 1u] = v.y; }
  if ((m & 4u) != 0u) { outp[i + 2u] = v.z; }
  if ((m & 8u) != 0u) { outp[i + 3u] = v.w; }
}

// Pixel r of one output row at out index base (of the channel block), unless !ok. Slot s
// holds the block's channels 4·(lane ^ s) .. +3; cm: valid-channel mask of the block.
// (relu is always RELU: passed in because reflection only sees overrides the entry point names)
fn store_px(acc: ptr<function, Acc>, r: u32, base: u32, ok: bool, b: Taps, lane: u32, cm: u32, relu: bool) {
  if (!ok) { return; }
  let c0 = 4u * lane;
  let c1 = 4u * (lane ^ 1u);
  let c2 = 4u * (lane ^ 2u);
  let c3 = 4u * (lane ^ 3u);
  store4(base + c0, (*acc)[4u * r], b.b0, cm >> c0, relu);
  store4(base + c1, (*acc)[4u * r + 1u], b.b1, cm >> c1, relu);
  store4(base + c2, (*acc)[4u * r + 2u], b.b2, cm >> c2, relu);
  store4(base + c3, (*acc)[4u * r + 3u], b.b3, cm >> c3, relu);
}

// The RW pixels of one output row of the block.
fn store_row(acc: ptr<function, Acc>, rowbase: u32, oh_ok: bool, ow0: i32, b: Taps, lane: u32, cm: u32, relu: bool) {
  let co = u32(p.CO);
  store_px(acc, 0u, rowbase, oh_ok && ow0 < p.OW, b, lane, cm, relu);
  if (RW > 1u) { store_px(acc, 1u, rowbase + co, oh_ok && ow0 + 1 < p.OW, b, lane, cm, relu); }
  if (RW > 2u) { store_px(acc, 2u, rowbase + 2u * co, oh_ok && ow0 + 2 < p.OW, b, lane, cm, relu); }
  if (RW > 3u) { store_px(acc, 3u, rowbase + 3u * co, oh_ok && ow0 + 3 < p.OW, b, lane, cm, relu); }
  if (RW > 4u) { store_px(acc, 4u, rowbase + 4u * co, oh_ok && ow0 + 4 < p.OW, b, lane, cm, relu); }
  if (RW > 5u) { store_px(acc, 5u, rowbase + 5u * co, oh_ok && ow0 + 5 < p.OW, b, lane, cm, relu); }
  if (RW > 6u) { store_px(acc, 6u, rowbase + 6u * co, oh_ok && ow0 + 6 < p.OW, b, lane, cm, relu); }
  if (RW > 7u) { store_px(acc, 7u, rowbase + 7u * co, oh_ok && ow0 + 7 < p.OW, b, lane, cm, relu); }
}

@compute @workgroup_size(WG)
fn direct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  // Reflection (wgsl_reflect) lists only the overrides an entry point names itself.
  _ = vec4<u32>(KH, KW, DH, DW);
  let lin = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  // No early return: the swaps need all 4 lanes of a quad (and uniform control flow), so
  // spare threads compute a real block and store nothing.
  let quad_raw = lin * (WG / 4u) + lid / 4u;
  let quad = min(quad_raw, p.nquads - 1u);
  let lane = lid % 4u;
  let ob = quad % p.oblocks;
  let u_raw = (quad / p.oblocks) * 4u + lane;
  let u_ok = u_raw < p.nunits && quad_raw < p.nquads;
  let unit = min(u_raw, p.nunits - 1u);
  let strip = unit % p.strips;
  let rg = (unit / p.strips) % p.rgroups;
  let n = i32(unit / (p.strips * p.rgroups));
  let oh0 = i32(rg * RH);
  let ow0 = i32(strip * RW);

  // Input columns of the strip that lie inside the image: bit j of hmask.
  let iw0 = ow0 * i32(SW) - p.pad_l;
  var hmask = 0u;
  for (var j = 0u; j < L; j++) {
    let iw = iw0 + i32(j);
    if (iw >= 0 && iw < p.IW) { hmask |= 1u << j; }
  }
  // This lane's 4 channels of the block (masked beyond CO) and its weight index.
  let co0 = i32(ob * 16u + 4u * lane);
  let wm = vec4<i32>(co0, co0 + 1, co0 + 2, co0 + 3) < vec4<i32>(p.CO);
  let wl = p.w_base + min(co0, p.CO - 1) * p.w_co;
  let ih0 = oh0 * i32(SH) - p.pad_t;
  let xb0 = ((n * p.IH + ih0) * p.IW + iw0) * p.CI;

  var a0: Acc;
  var a1: Acc;
  var a2: Acc;
  var a3: Acc;
  var xs: Rows;
  for (var ci = 0; ci < p.CI; ci++) {
    let xc = xb0 + ci;
    load_block_row(&xs, 0u, xc, ih0, hmask);
    if (R > 1u) { load_block_row(&xs, 1u, xc, ih0, hmask); }
    if (R > 2u) { load_block_row(&xs, 2u, xc, ih0, hmask); }
    if (R > 3u) { load_block_row(&xs, 3u, xc, ih0, hmask); }
    if (R > 4u) { load_block_row(&xs, 4u, xc, ih0, hmask); }
    if (R > 5u) { load_block_row(&xs, 5u, xc, ih0, hmask); }
    if (R > 6u) { load_block_row(&xs, 6u, xc, ih0, hmask); }
    if (R > 7u) { load_block_row(&xs, 7u, xc, ih0, hmask); }
    if (R > 8u) { load_block_row(&xs, 8u, xc, ih0, hmask); }
    if (R > 9u) { load_block_row(&xs, 9u, xc, ih0, hmask); }
    taps_all(&a0, &a1, &a2, &a3, &xs, wl + ci * p.w_ci, wm);
  }

  // Epilogue: bias (each lane loads its 4, swapped round the quad like the weights), ReLU,
  // masked stores.
  var bv = vec4<f32>(0.0);
  if (HAS_BIAS) {
    let bi = min(co0, p.CO - 1);
    bv = select(vec4<f32>(0.0), vec4<f32>(bias[bi], bias[min(bi + 1, p.CO - 1)], bias[min(bi + 2, p.CO - 1)], bias[min(bi + 3, p.CO - 1)]), wm);
  }
  let b = Taps(bv, quadSwapX(bv), quadSwapY(bv), quadSwapDiagonal(bv), bv);
  let cvalid = u32(clamp(p.CO - i32(ob * 16u), 0, 16));
  let cm = select((1u << cvalid) - 1u, 0xffffu, cvalid >= 16u);
  let co = u32(p.CO);
  let rb = (u32(n * p.OH + oh0) * u32(p.OW) + u32(ow0)) * co + ob * 16u;
  let rs = u32(p.OW) * co;
  store_row(&a0, rb, u_ok && oh0 < p.OH, ow0, b, lane, cm, RELU);
  if (RH > 1u) { store_row(&a1, rb + rs, u_ok && oh0 + 1 < p.OH, ow0, b, lane, cm, RELU); }
  if (RH > 2u) { store_row(&a2, rb + 2u * rs, u_ok && oh0 + 2 < p.OH, ow0, b, lane, cm, RELU); }
  if (RH > 3u) { store_row(&a3, rb + 3u * rs, u_ok && oh0 + 3 < p.OH, ow0, b, lane, cm, RELU); }
}
