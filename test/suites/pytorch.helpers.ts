// A float64 reference of PyTorch's documented semantics, in its own conventions: activations
// NCHW, conv weights OIHW, linear weights [out,in], flatten in (C,H,W) order, state-dict keys
// "<index in the nn.Sequential>.<name>". It shares no code with src/ (pytorch.suite.ts checks
// our import and export against it).

export interface TorchTensor {
  shape: number[];
  data: ArrayLike<number>;
}
export type TorchState = Record<string, TorchTensor>;

/** One module of an nn.Sequential, as the reference runs it. */
export type TorchOp =
  | { t: 'conv'; s?: [number, number]; p?: [number, number]; d?: [number, number]; bias?: boolean }
  | { t: 'zeropad'; p: [number, number, number, number] } // (left, right, top, bottom), as nn.ZeroPad2d
  | { t: 'relu' | 'flatten' | 'gap' }
  | { t: 'maxpool' | 'avgpool'; k: [number, number]; s?: [number, number]; p?: [number, number]; cip?: boolean }
  | { t: 'bn'; eps?: number; momentum?: number | null }
  | { t: 'linear'; bias?: boolean };

interface Act {
  shape: number[]; // [N,C,H,W] or [N,F]
  data: Float64Array;
}

/**
 * Run `ops` (nn.Sequential order; op k reads the state keys "k.*") on x [N,C,H,W]. In training
 * mode BatchNorm normalises with the batch statistics (biased variance) and returns the updated
 * running statistics in `updates` (unbiased variance, momentum), as PyTorch does.
 */
export function torchForward(
  ops: TorchOp[],
  state: TorchState,
  x: TorchTensor,
  training = false,
): { y: Act; updates: TorchState } {
  let a: Act = { shape: [...x.shape], data: Float64Array.from(x.data) };
  const updates: TorchState = {};
  ops.forEach((op, k) => {
    const w = (n: string) => state[`${k}.${n}`];
    switch (op.t) {
      case 'conv':
        a = conv(a, w('weight'), op.bias === false ? null : w('bias'), op.s ?? [1, 1], op.p ?? [0, 0], op.d ?? [1, 1]);
        break;
      case 'zeropad':
        a = zeroPad(a, op.p);
        break;
      case 'relu':
        a = { shape: a.shape, data: a.data.map((v) => Math.max(v, 0)) };
        break;
      case 'flatten':
        a = { shape: [a.shape[0], a.data.length / a.shape[0]], data: a.data };
        break;
      case 'gap': {
        const [N, C, H, W] = a.shape;
        const y = new Float64Array(N * C);
        for (let i = 0; i < N * C; i++) for (let j = 0; j < H * W; j++) y[i] += a.data[i * H * W + j] / (H * W);
        a = { shape: [N, C], data: y }; // AdaptiveAvgPool2d(1) then Flatten
        break;
      }
      case 'maxpool':
      case 'avgpool':
        a = pool(a, op);
        break;
      case 'bn': {
        const count = Number(w('num_batches_tracked').data[0]) + 1;
        // momentum=None: a cumulative average, factor 1 / num_batches_tracked after counting
        const factor = op.momentum === null ? 1 / count : (op.momentum ?? 0.1);
        const r = batchNorm(a, w('weight'), w('bias'), w('running_mean'), w('running_var'), op.eps, factor, training);
        a = r.y;
        if (training) {
          updates[`${k}.running_mean`] = r.runningMean;
          updates[`${k}.running_var`] = r.runningVar;
          updates[`${k}.num_batches_tracked`] = { shape: [], data: [count] };
        }
        break;
      }
      case 'linear': {
        const W = w('weight'),
          b = op.bias === false ? null : w('bias');
        const [O, F] = W.shape,
          N = a.shape[0];
        const y = new Float64Array(N * O);
        for (let n = 0; n < N; n++)
          for (let o = 0; o < O; o++) {
            let s = b ? b.data[o] : 0;
            for (let f = 0; f < F; f++) s += W.data[o * F + f] * a.data[n * F + f];
            y[n * O + o] = s;
          }
        a = { shape: [N, O], data: y };
        break;
      }
    }
  });
  return { y: a, updates };
}

function conv(
  x: Act,
  w: TorchTensor,
  b: TorchTensor | null,
  [sh, sw]: [number, number],
  [ph, pw]: [number, number],
  [dh, dw]: [number, number],
): Act {
  const [N, C, H, W] = x.shape,
    [O, I, KH, KW] = w.shape;
  if (I !== C) throw new Error(`reference conv: weight [${w.shape}] on input [${x.shape}]`);
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1,
    OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  const y = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = b ? b.data[o] : 0;
          for (let c = 0; c < C; c++)
            for (let kh = 0; kh < KH; kh++) {
              const h = oh * sh - ph + kh * dh;
              if (h < 0 || h >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ww = ow * sw - pw + kw * dw;
                if (ww < 0 || ww >= W) continue;
                s += w.data[((o * C + c) * KH + kh) * KW + kw] * x.data[((n * C + c) * H + h) * W + ww];
              }
            }
          y[((n * O + o) * OH + oh) * OW + ow] = s;
        }
  return { shape: [N, O, OH, OW], data: y };
}

function zeroPad(x: Act, [l, r, t, b]: [number, number, number, number]): Act {
  const [N, C, H, W] = x.shape;
  const OH = H + t + b,
    OW = W + l + r;
  const y = new Float64Array(N * C * OH * OW);
  for (let i = 0; i < N * C; i++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++) y[(i * OH + h + t) * OW + w + l] = x.data[(i * H + h) * W + w];
  return { shape: [N, C, OH, OW], data: y };
}

function pool(x: Act, op: Extract<TorchOp, { t: 'maxpool' | 'avgpool' }>): Act {
  const [N, C, H, W] = x.shape;
  const [KH, KW] = op.k,
    [SH, SW] = op.s ?? op.k,
    [PH, PW] = op.p ?? [0, 0];
  const OH = Math.floor((H + 2 * PH - KH) / SH) + 1,
    OW = Math.floor((W + 2 * PW - KW) / SW) + 1;
  const y = new Float64Array(N * C * OH * OW);
  for (let i = 0; i < N * C; i++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        // PyTorch's avg_pool2d: the divisor with count_include_pad is the window clipped to the
        // padded input; without it, the window clipped to the input.
        const hs = oh * SH - PH,
          ws = ow * SW - PW;
        const he = Math.min(hs + KH, H + PH),
          we = Math.min(ws + KW, W + PW);
        const padded = (he - hs) * (we - ws);
        const h0 = Math.max(hs, 0),
          w0 = Math.max(ws, 0),
          h1 = Math.min(he, H),
          w1 = Math.min(we, W);
        let m = -Infinity,
          s = 0;
        for (let h = h0; h < h1; h++)
          for (let w = w0; w < w1; w++) {
            const v = x.data[(i * H + h) * W + w];
            m = Math.max(m, v);
            s += v;
          }
        y[(i * OH + oh) * OW + ow] = op.t === 'maxpool' ? m : s / ((op.cip ?? true) ? padded : (h1 - h0) * (w1 - w0));
      }
  return { shape: [N, C, OH, OW], data: y };
}

function batchNorm(
  x: Act,
  gamma: TorchTensor,
  beta: TorchTensor,
  rm: TorchTensor,
  rv: TorchTensor,
  epsOpt: number | undefined,
  mom: number,
  training: boolean,
): { y: Act; runningMean: TorchTensor; runningVar: TorchTensor } {
  const N = x.shape[0],
    C = x.shape[1],
    S = x.shape.length === 4 ? x.shape[2] * x.shape[3] : 1;
  const M = N * S,
    eps = epsOpt ?? 1e-5;
  const at = (n: number, c: number, s: number) => (n * C + c) * S + s;
  const mean = new Float64Array(C),
    varB = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) mean[c] += x.data[at(n, c, s)] / M;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) varB[c] += (x.data[at(n, c, s)] - mean[c]) ** 2 / M;
  }
  const mu = (c: number) => (training ? mean[c] : rm.data[c]),
    va = (c: number) => (training ? varB[c] : rv.data[c]);
  const y = new Float64Array(x.data.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < S; s++) {
        const i = at(n, c, s);
        y[i] = ((x.data[i] - mu(c)) / Math.sqrt(va(c) + eps)) * gamma.data[c] + beta.data[c];
      }
  const runningMean = { shape: [C], data: Array.from({ length: C }, (_, c) => (1 - mom) * rm.data[c] + mom * mean[c]) };
  const runningVar = {
    shape: [C],
    data: Array.from({ length: C }, (_, c) => (1 - mom) * rv.data[c] + (mom * varB[c] * M) / (M - 1)),
  };
  return { y: { shape: x.shape, data: y }, runningMean, runningVar };
}

/** NCHW -> NHWC (our activations). */
export function nchwToNhwc(x: ArrayLike<number>, [N, C, H, W]: number[]): Float32Array {
  const y = new Float32Array(N * H * W * C);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) y[((n * H + h) * W + w) * C + c] = x[((n * C + c) * H + h) * W + w];
  return y;
}

/** max |got - want| / max |want|: the error relative to the largest logit. */
export function relToLargest(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0,
    m = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return d / m;
}
