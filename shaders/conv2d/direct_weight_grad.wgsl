// conv2d weight (and bias) gradient as a register-blocked direct loop with quad-shared dy,
// split over the batch·pixel reduction (split-K), without workgroup memory. The companion
// of conv2d/direct.wgsl (same machinery, same reasons: built for CPU implementations).
// The splits are summed by `reduce_splits` in conv2d/tiled_weight_grad.wgsl (fixed order: results
// are bitwise reproducible).
//
// x: [N,H,W,C]  dy: [N,OH,OW,O] (already masked by a fused ReLU)  part: [splits, M, O]
//
//   part[z, m, o] = sum over the strips of split z of x[n, ih, iw, c] · dy[n, oh, ow, o]
//   m = (kh·KW + kw)·C + c,  ih = oh·SH - pad_t + kh·DH,  iw = ow·SW - pad_l + kw·DW
//   with a bias, row m = Mw = KH·KW·C holds sum dy[.., o] (the bias gradient).
//
// Work split: a strip is RW consecutive output pixels of one row. A thread owns one input
// channel c, a block of 16 output channels and every tap (KH·KW·4 vec4 accumulators), and
// walks the strips of its split. The 4 lanes of a quad own 4 consecutive channels c and the
// same 16 output channels: they need the same dy values, so each lane loads 4 of the 16
// channels of each pixel (a vec4) and quad swaps hand them round (slot s of lane i holds lane
// (i ^ s)'s channels). Per strip a lane loads RW·4 dy values and KH rows of L =
// (RW-1)·SW + (KW-1)·DW + 1 input values, for 4·KH·KW·RW vec4 multiply-adds; the RW pixels
// of one (tap, slot) are summed before they touch the accumulator. Lanes whose channel is
// past C (C not a multiple of 4) only help with dy and store nothing.
// With fewer than 4 input channels (SHARE = false) that would idle lanes, so the 4 lanes of
// a quad walk 4 different splits instead and each loads all 16 dy channels itself.
// Everything inside the strip loop is unrolled by hand (override constants, as in
// conv2d/direct.wgsl). Host-checked limits: src/ops/conv2d/direct.ts.

enable subgroups;

override RW: u32 = 7;  // pixels per strip, 1..8
override KH: u32 = 3;  // filter rows, 1..5
override KW: u32 = 3;  // filter taps along a row, 1..5
override SH: u32 = 1;  // strides and dilations
override SW: u32 = 1;
override DH: u32 = 1;
override DW: u32 = 1;
override WG: u32 = 64; // threads per workgroup, a multiple of 4
override HAS_BIAS: bool = false;
override SHARE: bool = true; // quad lanes = 4 input channels sharing dy; else 4 splits

override L: u32 = (RW - 1u) * SW + (KW - 1u) * DW + 1u; // strip length, <= 16

struct DwParams {
  N: i32, H: i32, W: i32, C: i32, O: i32, OH: i32, OW: i32,
  pad_t: i32, pad_l: i32,
  strips: u32,   // strips per output row: ceil(OW / RW)
  nstrips: u32,  // N · OH · strips
  chunk: u32,    // strips per split
  splits: u32,
  cquads: u32,   // SHARE: ceil(C / 4), else C
  oblocks: u32,  // ceil(O / 16)
  nquads: u32,   // cquads · oblocks · (SHARE: splits, else ceil(splits / 4))
  M: u32,        // rows of part: KH·KW·C (+ 1 with a bias)
}

@group(0) @binding(0) var<uniform> p: DwParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;

// Accumulators of one filter row kh: acc[4·kw + s] (tap kw, channel slot s).
alias Acc = array<vec4<f32>, 20>;
// The KH input rows of the strip for channel c: row kh at xs[16·kh + j].
alias Rows = array<f32, 80>;
// dy of the strip's RW pixels for one channel slot.
alias Dy = array<vec4<f32>, 8>;

// ---- loads ----

// One input value: lane-masked (padding and row ends read 0).
fn ld(base: i32, j: u32, m: u32) -> f32 {
  let i = max(base + i32(j) * p.C, 0);
  return select(0.0, x[i], ((m >> j) & 1u) != 0u);
}

//!include "conv2d/direct_rows.wgsl"

// Row kh of the strip: input row ih0 + kh·DH, masked when outside the image.
fn load_strip_row(xs: ptr<function, Rows>, kh: u32, xb: i32, ih0: i32, hmask: u32) {
  let ih = ih0 + i32(kh * DH);
  load_row(xs, kh, xb + i32(kh * DH) * p.W * p.C, select(0u, hmask, ih >= 0 && ih < p.H));
}

// This lane's 4 dy channels of one pixel (index i), zero where !ok or past O.
fn ldy(i: u32, ok: bool, om: vec4<bool>) -> vec4<f32> {
  return select(vec4<f32>(0.0), vec4<f32>(dy[i], dy[i + 1u], dy[i + 2u], dy[i + 3u]), om & vec4<bool>(ok));
}

fn load_dy(d: ptr<function, Dy>, base: u32, ow0: i32, om: vec4<bool>) {
  let o = u32(p.O);
  (*d)[0] = ldy(base, 0 < p.OW - ow0, om);
  if (RW > 1u) { (*d)[1] = ldy(base + o, ow0 + 1 < p.OW, om); }
  if (RW > 2u) { (*d)[2] = ldy(base + 2u * o, ow0 + 2 < p.OW, om); }
  if (RW > 3u) { (*d)[3] = ldy(base + 3u * o, ow0 + 3 < p.OW, om); }
  if (RW > 4u) { (*d)[4] = ldy(base + 4u * o, ow0 + 4 < p.OW, om); }
  if (RW > 5u) { (*d)[5] = ldy(base + 5u * o, ow0 + 5 < p.OW, om); }
  if (RW > 6u) { (*d)[6] = ldy(base + 6u * o, ow0 + 6 < p.OW, om); }
  if (RW > 7u) { (*d)[7] = ldy(base + 7u * o, ow0 + 7 < p.OW, om); }
}

// ---- sharing round the quad: slot s of lane i = lane (i ^ s)'s channels ----

fn swp(v: vec4<f32>, s: u32) -> vec4<f32> {
  if (s == 1u) { return quadSwapX(v); }
  if (s == 2u) { return quadSwapY(v); }
  if (s == 3u) { return quadSwapDiagonal(v); }
  return v;
}

fn slot(d: ptr<function, Dy>, s: u32) -> Dy {
  var e: Dy;
  e[0] = swp((*d)[0], s);
  if (RW > 1u) { e[1] = swp((*d)[1], s); }
  if (RW > 2u) { e[2] = swp((*d)[2], s); }
  if (RW > 3u) { e[3] = swp((*d)[3], s); }
  if (RW > 4u) { e[4] = swp((*d)[4], s); }
  if (RW > 5u) { e[5] = swp((*d)[5], s); }
  if (RW > 6u) { e[6] = swp((*d)[6], s); }
  if (RW > 7u) { e[7] = swp((*d)[7], s); }
  return e;
}

// ---- multiply-adds ----

// acc + sum over the strip's pixels r of xs[o + r·SW] · e[r], as a chain of fused multiply-adds.
fn upd(xs: ptr<function, Rows>, o: u32, e: ptr<function, Dy>, acc: vec4<f32>) -> vec4<f32> {
  var v = fma(vec4<f32>((*xs)[o]), (*e)[0], acc);
  if (RW > 1u) { v = fma(vec4<f32>((*xs)[o + SW]), (*e)[1], v); }
  if (RW > 2u) { v = fma(vec4<f32>((*xs)[o + 2u * SW]), (*e)[2], v); }
  if (RW > 3u) { v = fma(vec4<f32>((*xs)[o + 3u * SW]), (*e)[3], v); }
  if (RW > 4u) { v = fma(vec4<f32>((*xs)[o + 4u * SW]), (*e)[4], v); }
  if (RW > 5u) { v = fma(vec4<f32>((*xs)[o + 5u * SW]), (*e)[5], v); }
  if (RW > 6u) { v = fma(vec4<f32>((*xs)[o + 6u * SW]), (*e)[6], v); }
  if (RW > 7u) { v = fma(vec4<f32>((*xs)[o + 7u * SW]), (*e)[7], v); }
  return v;
}

// Filter row kh, channel slot s: every tap kw.
fn fma_row(acc: ptr<function, Acc>, xs: ptr<function, Rows>, kh: u32, s: u32, e: ptr<function, Dy>) {
  let o = 16u * kh;
  (*acc)[s] = upd(xs, o, e, (*acc)[s]);
  if (KW > 1u) { (*acc)[4u + s] = upd(xs, o + DW, e, (*acc)[4u + s]); }
  if (KW > 2u) { (*acc)[8u + s] = upd(xs, o + 2u * DW, e, (*acc)[8u + s]); }
  if (KW > 3u) { (*acc)[12u + s] = upd(xs, o + 3u * DW, e, (*acc)[12u + s]); }
  if (KW > 4u) { (*acc)[16u + s] = upd(xs, o + 4u * DW, e, (*acc)[16u + s]); }
}

// dy of channel slot s: from the quad (SHARE: d holds this lane's 4 channels) or loaded
// (channels o0 + 4s .. +3 of the pixels at index base).
fn slot_dy(d: ptr<function, Dy>, s: u32, base: u32, ow0: i32, o0: u32) -> Dy {
  if (SHARE) { return slot(d, s); }
  var e: Dy;
  let oc = o0 + 4u * s;
  let om = vec4<u32>(oc, oc + 1u, oc + 2u, oc + 3u) < vec4<u32>(u32(p.O));
  load_dy(&e, base + min(oc, u32(p.O) - 1u), ow0, om);
  return e;
}

// Channel slot s of the strip's dy (e), all taps; bs: the slot's dy sum (bias).
fn fma_slot(a0: ptr<function, Acc>, a1: ptr<function, Acc>, a2: ptr<function, Acc>, a3: ptr<function, Acc>,
            a4: ptr<function, Acc>, xs: ptr<function, Rows>, e: ptr<function, Dy>, s: u32, bs: ptr<function, vec4<f32>>) {
  if (HAS_BIAS) {
    var t = (*e)[0];
    if (RW > 1u) { t += (*e)[1]; }
    if (RW > 2u) { t += (*e)[2]; }
    if (RW > 3u) { t += (*e)[3]; }
    if (RW > 4u) { t += (*e)[4]; }
    if (RW > 5u) { t += (*e)[5]; }
    if (RW > 6u) { t += (*e)[6]; }
    if (RW > 7u) { t += (*e)[7]; }
    *bs += t;
  }
  fma_row(a0, xs, 0u, s, e);
  if (KH > 1u) { fma_row(a1, xs, 1u, s, e); }
  if (KH > 2u) { fma_row(a2, xs, 2u, s, e); }
  if (KH > 3u) { fma_row(a3, xs, 3u, s, e); }
  if (KH > 4u) { fma_row(a4, xs, 4u, s, e); }
}

// ---- stores ----

// 4 output channels of one part row (index i), bit k of m: channel k exists.
fn store4(i: u32, v: vec4<f32>, m: u32) {
  if ((m & 1u) != 0u) { part[i] = v.x; }
  if ((m & 2u) != 0u) { part[i + 1u] = v.y; }
  if ((m & 4u) != 0u) { part[i + 2u] = v.z; }
  if ((m & 8u) != 0u) { part[i + 3u] = v.w; }
}

// Tap (kh, kw) at part row index base (of the channel block): the 4 slots.
fn store_tap(acc: ptr<function, Acc>, kw: u32, base: u32, lane: u32, cm: u32) {
  let c0 = 4u * lane;
  let c1 = 4u * (lane ^ 1u);
  let c2 = 4u * (lane ^ 2u);
  let c3 = 4u * (lane ^ 3u);
  store4(base + c0, (*acc)[4u * kw], cm >> c0);
  store4(base + c1, (*acc)[4u * kw + 1u], cm >> c1);
  store4(base + c2, (*acc)[4u * kw + 2u], cm >> c2);
  store4(base + c3, (*acc)[4u * kw + 3u], cm >> c3);
}

// Filter row kh: every tap kw (part row m = (kh·KW + kw)·C + c).
fn store_row(acc: ptr<function, Acc>, kh: u32, zb: u32, c: u32, ok: bool, lane: u32, cm: u32) {
  if (!ok) { return; }
  let o = u32(p.O);
  let rs = u32(p.C) * o; // one tap further
  let base = zb + ((kh * KW) * u32(p.C) + c) * o;
  store_tap(acc, 0u, base, lane, cm);
  if (KW > 1u) { store_tap(acc, 1u, base + rs, lane, cm); }
  if (KW > 2u) { store_tap(acc, 2u, base + 2u * rs, lane, cm); }
  if (KW > 3u) { store_tap(acc, 3u, base + 3u * rs, lane, cm); }
  if (KW > 4u) { store_tap(acc, 4u, base + 4u * rs, lane, cm); }
}

@compute @workgroup_size(WG)
fn weight_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  // Reflection (wgsl_reflect) lists only the overrides an entry point names itself.
  _ = vec4<u32>(KH, KW, DH, DW);
  _ = vec2<u32>(SH, L);
  _ = SHARE;
  let lin = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  // No early return: the swaps need all 4 lanes of a quad (and uniform control flow).
  let quad_raw = lin * (WG / 4u) + lid / 4u;
  let quad = min(quad_raw, p.nquads - 1u);
  let lane = lid % 4u;
  let ob = quad % p.oblocks;
  let cq = (quad / p.oblocks) % p.cquads;
  let zq = quad / (p.oblocks * p.cquads);
  let z = select(zq * 4u + lane, zq, SHARE);
  let c_raw = select(cq, cq * 4u + lane, SHARE);
  let c_ok = c_raw < u32(p.C) && z < p.splits && quad_raw < p.nquads;
  let c = i32(min(c_raw, u32(p.C) - 1u));
  // Slot s holds the block's channels 4·(sl ^ s) .. +3: sl = lane when sharing, else 0.
  let sl = select(0u, lane, SHARE);
  let o0 = ob * 16u + 4u * sl; // slot 0's channels
  let om = vec4<u32>(o0, o0 + 1u, o0 + 2u, o0 + 3u) < vec4<u32>(u32(p.O));
  let oc = min(o0, u32(p.O) - 1u);

  // Strips [s0, s0 + chunk) (the last split has fewer: its spare steps load nothing). The
  // loop count is the same for every thread: the swaps need uniform control flow.
  let s0 = z * p.chunk;
  // Decode the first strip once, then advance (col, oh, n) by carries: no division per strip.
  var col = s0 % p.strips;
  var oh = i32((s0 / p.strips) % u32(p.OH));
  var n = i32(s0 / (p.strips * u32(p.OH)));

  var a0: Acc;
  var a1: Acc;
  var a2: Acc;
  var a3: Acc;
  var a4: Acc;
  var bs0 = vec4<f32>(0.0);
  var bs1 = vec4<f32>(0.0);
  var bs2 = vec4<f32>(0.0);
  var bs3 = vec4<f32>(0.0);
  var xs: Rows;
  var d: Dy;
  for (var k = 0u; k < p.chunk; k++) {
    let live = s0 + k < p.nstrips;
    // a spare step gets ow0 = OW (every dy pixel masked) and no input columns
    let ow0 = select(p.OW, i32(col * RW), live);
    let iw0 = ow0 * i32(SW) - p.pad_l;
    // bit j: input column iw0 + j lies inside the image, j in [lo, hi)
    let lo = u32(clamp(-iw0, 0, 16));
    let hi = u32(clamp(p.W - iw0, 0, i32(L)));
    let hmask = select(0u, ((1u << hi) - 1u) & ~((1u << lo) - 1u), live && hi > lo);
    let ih0 = oh * i32(SH) - p.pad_t;
    let xb = ((n * p.H + ih0) * p.W + iw0) * p.C + c;
    load_strip_row(&xs, 0u, xb, ih0, hmask);
    if (KH > 1u) { load_strip_row(&xs, 1u, xb, ih0, hmask); }
    if (KH > 2u) { load_strip_row(&xs, 2u, xb, ih0, hmask); }
    if (KH > 3u) { load_strip_row(&xs, 3u, xb, ih0, hmask); }
    if (KH > 4u) { load_strip_row(&xs, 4u, xb, ih0, hmask); }
    let pb = u32((n * p.OH + oh) * p.OW + ow0) * u32(p.O); // dy index of the strip's pixel 0
    if (SHARE) { load_dy(&d, pb + oc, ow0, om); }
    var e0 = slot_dy(&d, 0u, pb, ow0, o0);
    fma_slot(&a0, &a1, &a2, &a3, &a4, &xs, &e0, 0u, &bs0);
    var e1 = slot_dy(&d, 1u, pb, ow0, o0);
    fma_slot(&a0, &a1, &a2, &a3, &a4, &xs, &e1, 1u, &bs1);
    var e2 = slot_dy(&d, 2u, pb, ow0, o0);
    fma_slot(&a0, &a1, &a2, &a3, &a4, &xs, &e2, 2u, &bs2);
    var e3 = slot_dy(&d, 3u, pb, ow0, o0);
    fma_slot(&a0, &a1, &a2, &a3, &a4, &xs, &e3, 3u, &bs3);
    col += 1u;
    let wrap = col == p.strips;
    col = select(col, 0u, wrap);
    oh += select(0, 1, wrap);
    let wrap_h = oh == p.OH;
    oh = select(oh, 0, wrap_h);
    n += select(0, 1, wrap_h);
  }

  let o = u32(p.O);
  let zb = z * p.M * o + ob * 16u;
  let cvalid = u32(clamp(p.O - i32(ob * 16u), 0, 16));
  let cm = select((1u << cvalid) - 1u, 0xffffu, cvalid >= 16u);
  let cu = u32(c);
  store_row(&a0, 0u, zb, cu, c_ok, sl, cm);
  if (KH > 1u) { store_row(&a1, 1u, zb, cu, c_ok, sl, cm); }
  if (KH > 2u) { store_row(&a2, 2u, zb, cu, c_ok, sl, cm); }
  if (KH > 3u) { store_row(&a3, 3u, zb, cu, c_ok, sl, cm); }
  if (KH > 4u) { store_row(&a4, 4u, zb, cu, c_ok, sl, cm); }
  // Bias row Mw = M - 1: every thread of channel 0 has the dy sums of its split for all 16
  // channels of the block (all lanes of a sharing quad have the same ones).
  if (HAS_BIAS && c_raw == 0u && c_ok) {
    let bb = zb + (p.M - 1u) * o;
    store4(bb + 4u * sl, bs0, cm >> (4u * sl));
    store4(bb + 4u * (sl ^ 1u), bs1, cm >> (4u * (sl ^ 1u)));
    store4(bb + 4u * (sl ^ 2u), bs2, cm >> (4u * (sl ^ 2u)));
    store4(bb + 4u * (sl ^ 3u), bs3, cm >> (4u * (sl ^ 3u)));
  }
}
