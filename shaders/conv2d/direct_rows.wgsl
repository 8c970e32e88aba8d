// The row loader of the direct conv kernels (conv2d/direct.wgsl, conv2d/direct_weight_grad.wgsl):
// included, not a kernel. It uses the includer's override L (values per row, <= 16), its
// `Rows` array type and its `ld(base, j, m)`, the lane-masked load of value j of a row.
//
//   xs[16·u + j] = ld(base, j, m)   for j < L   (hand-unrolled: L is an override, so the
//                                               guards fold away and indices are constants)

fn load_row(xs: ptr<function, Rows>, u: u32, base: i32, m: u32) {
  let o = 16u * u;
  (*xs)[o] = ld(base, 0u, m);
  if (L > 1u) { (*xs)[o + 1u] = ld(base, 1u, m); }
  if (L > 2u) { (*xs)[o + 2u] = ld(base, 2u, m); }
  if (L > 3u) { (*xs)[o + 3u] = ld(base, 3u, m); }
  if (L > 4u) { (*xs)[o + 4u] = ld(base, 4u, m); }
  if (L > 5u) { (*xs)[o + 5u] = ld(base, 5u, m); }
  if (L > 6u) { (*xs)[o + 6u] = ld(base, 6u, m); }
  if (L > 7u) { (*xs)[o + 7u] = ld(base, 7u, m); }
  if (L > 8u) { (*xs)[o + 8u] = ld(base, 8u, m); }
  if (L > 9u) { (*xs)[o + 9u] = ld(base, 9u, m); }
  if (L > 10u) { (*xs)[o + 10u] = ld(base, 10u, m); }
  if (L > 11u) { (*xs)[o + 11u] = ld(base, 11u, m); }
  if (L > 12u) { (*xs)[o + 12u] = ld(base, 12u, m); }
  if (L > 13u) { (*xs)[o + 13u] = ld(base, 13u, m); }
  if (L > 14u) { (*xs)[o + 14u] = ld(base, 14u, m); }
  if (L > 15u) { (*xs)[o + 15u] = ld(base, 15u, m); }
}
