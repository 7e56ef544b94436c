/**
 * 2-D convolution kernels: the forward conv2d and its two gradient ops (backprop to the input, backprop to the
 * filter), direct loops over NHWC or NCHW data and a [fh, fw, inC / groups, outC] filter, with the padding
 * arithmetic of TensorFlow(.js) in one place (convGeometry) shared by the shape rules and the kernels.
 */
import type { Buf, TypedArray } from './types';

/** How the padding of a convolution is given: tfjs's 'same' / 'valid', or explicit [top, bottom, left, right]. */
export type ConvPadding = 'same' | 'valid' | 'explicit';

/** The attributes every conv op carries. */
export interface ConvAttrs {
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly pad: string;
  /** [top, bottom, left, right], for pad 'explicit'. */
  readonly pads?: readonly number[];
  readonly dataFormat: string;
  readonly groups?: number;
}

/** The resolved geometry of one spatial dim: the output size and the padding before and after. */
export interface AxisGeometry {
  readonly out: number;
  readonly before: number;
  readonly after: number;
}

/**
 * Output size and padding of one spatial dim, as tfjs computes them: the effective filter size is
 * (size - 1) · dilation + 1; 'valid' pads nothing, 'same' pads max((ceil(in / s) - 1) · s + effective - in, 0)
 * split with the odd one after; explicit padding gives floor((in + before + after - effective) / s) + 1.
 */
export function axisGeometry(
  size: number,
  filter: number,
  stride: number,
  dilation: number,
  pad: string,
  before: number,
  after: number,
): AxisGeometry {
  const effective = (filter - 1) * dilation + 1;
  if (pad === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + effective - size, 0);
    const top = Math.floor(total / 2);
    return { out, before: top, after: total - top };
  }
  const b = pad === 'valid' ? 0 : before;
  const a = pad === 'valid' ? 0 : after;
  return { out: Math.max(Math.floor((size + b + a - effective) / stride) + 1, 0), before: b, after: a };
}

/** Element strides of a rank-4 buffer's [n, h, w, c] dims for its data format. */
function layoutStrides(shape: readonly number[], channelsLast: boolean): [number, number, number, number] {
  const [, d1, d2, d3] = shape;
  return channelsLast ? [d1 * d2 * d3, d2 * d3, d3, 1] : [d1 * d2 * d3, d3, 1, d2 * d3];
}

/** [n, h, w, c] of a rank-4 shape in its data format. */
export function nhwc(shape: readonly number[], channelsLast: boolean): [number, number, number, number] {
  return channelsLast ? [shape[0], shape[1], shape[2], shape[3]] : [shape[0], shape[2], shape[3], shape[1]];
}

/** Everything the three kernels loop over. */
interface Problem {
  readonly n: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
  readonly fh: number;
  readonly fw: number;
  readonly sh: number;
  readonly sw: number;
  readonly dh: number;
  readonly dw: number;
  readonly top: number;
  readonly left: number;
  readonly groups: number;
  /** Input channels per group and output channels per group. */
  readonly cg: number;
  readonly og: number;
  readonly xs: [number, number, number, number];
  readonly ys: [number, number, number, number];
}

function problemOf(xShape: readonly number[], fShape: readonly number[], attrs: ConvAttrs): Problem {
  const channelsLast = attrs.dataFormat !== 'NCHW';
  const [n, inH, inW, inC] = nhwc(xShape, channelsLast);
  const [fh, fw, cg, outC] = fShape;
  const pads = attrs.pads ?? [0, 0, 0, 0];
  const [sh, sw] = attrs.strides;
  const [dh, dw] = attrs.dilations;
  const rows = axisGeometry(inH, fh, sh, dh, attrs.pad, pads[0], pads[1]);
  const cols = axisGeometry(inW, fw, sw, dw, attrs.pad, pads[2], pads[3]);
  const groups = attrs.groups ?? 1;
  const yShape = channelsLast ? [n, rows.out, cols.out, outC] : [n, outC, rows.out, cols.out];
  return {
    n,
    inH,
    inW,
    inC,
    outH: rows.out,
    outW: cols.out,
    outC,
    fh,
    fw,
    sh,
    sw,
    dh,
    dw,
    top: rows.before,
    left: cols.before,
    groups,
    cg,
    og: outC / groups,
    xs: layoutStrides(xShape, channelsLast),
    ys: layoutStrides(yShape, channelsLast),
  };
}

// Accumulators are float64 and kept across calls (so a call allocates nothing once warm), past this many elements
// allocated per call instead so one huge conv does not pin its memory.
const MAX_KEPT_SCRATCH = 1 << 22;
let kept = new Float64Array(0);

function scratch(size: number): Float64Array {
  if (size > MAX_KEPT_SCRATCH) return new Float64Array(size);
  if (kept.length < size) kept = new Float64Array(Math.max(size, kept.length * 2));
  kept.fill(0, 0, size);
  return kept;
}

/**
 * y[n, oh, ow, o] = Σ x[n, oh·sh − top + kh·dh, ow·sw − left + kw·dw, g·cg + c] · f[kh, kw, c, o] over kh, kw and
 * the cg channels c of o's group g. Per output pixel the outC sums run in float64 accumulators, the innermost loop
 * over the filter's contiguous output channels.
 */
export function conv2d(x: Buf, filter: Buf, out: Buf, attrs: ConvAttrs): void {
  const p = problemOf(x.shape, filter.shape, attrs);
  const xd = x.data;
  const fd = filter.data;
  const od = out.data;
  const [xn, xh, xw, xc] = p.xs;
  const [yn, yh, yw, yc] = p.ys;
  const acc = scratch(p.outC);
  const fRow = p.cg * p.outC;
  for (let n = 0; n < p.n; n++) {
    for (let oh = 0; oh < p.outH; oh++) {
      for (let ow = 0; ow < p.outW; ow++) {
        acc.fill(0, 0, p.outC);
        for (let kh = 0; kh < p.fh; kh++) {
          const ih = oh * p.sh - p.top + kh * p.dh;
          if (ih < 0 || ih >= p.inH) continue;
          for (let kw = 0; kw < p.fw; kw++) {
            const iw = ow * p.sw - p.left + kw * p.dw;
            if (iw < 0 || iw >= p.inW) continue;
            const xBase = n * xn + ih * xh + iw * xw;
            const fBase = (kh * p.fw + kw) * fRow;
            for (let g = 0; g < p.groups; g++) {
              const o0 = g * p.og;
              const o1 = o0 + p.og;
              for (let c = 0; c < p.cg; c++) {
                const xv = xd[xBase + (g * p.cg + c) * xc];
                const fOff = fBase + c * p.outC;
                for (let o = o0; o < o1; o++) acc[o] += xv * fd[fOff + o];
              }
            }
          }
        }
        const yBase = n * yn + oh * yh + ow * yw;
        for (let o = 0; o < p.outC; o++) od[yBase + o * yc] = acc[o];
      }
    }
  }
}

function store(from: Float64Array, to: TypedArray): void {
  for (let i = 0; i < to.length; i++) to[i] = from[i];
}

/**
 * The gradient of conv2d with respect to x: dx (shaped as `out`) from dy and the filter. Each dy pixel scatters
 * through the filter taps into the input pixels it read, accumulated in float64.
 */
export function conv2dBackpropInput(dy: Buf, filter: Buf, out: Buf, attrs: ConvAttrs): void {
  const p = problemOf(out.shape, filter.shape, attrs);
  const dd = dy.data;
  const fd = filter.data;
  const [xn, xh, xw, xc] = p.xs;
  const [yn, yh, yw, yc] = p.ys;
  const acc = scratch(out.data.length);
  const fRow = p.cg * p.outC;
  for (let n = 0; n < p.n; n++) {
    for (let oh = 0; oh < p.outH; oh++) {
      for (let ow = 0; ow < p.outW; ow++) {
        const yBase = n * yn + oh * yh + ow * yw;
        for (let kh = 0; kh < p.fh; kh++) {
          const ih = oh * p.sh - p.top + kh * p.dh;
          if (ih < 0 || ih >= p.inH) continue;
          for (let kw = 0; kw < p.fw; kw++) {
            const iw = ow * p.sw - p.left + kw * p.dw;
            if (iw < 0 || iw >= p.inW) continue;
            const xBase = n * xn + ih * xh + iw * xw;
            const fBase = (kh * p.fw + kw) * fRow;
            for (let g = 0; g < p.groups; g++) {
              const o0 = g * p.og;
              const o1 = o0 + p.og;
              for (let c = 0; c < p.cg; c++) {
                const fOff = fBase + c * p.outC;
                let s = 0;
                for (let o = o0; o < o1; o++) s += dd[yBase + o * yc] * fd[fOff + o];
                acc[xBase + (g * p.cg + c) * xc] += s;
              }
            }
          }
        }
      }
    }
  }
  store(acc, out.data);
}

/**
 * The gradient of conv2d with respect to its filter: df (shaped as `out`, [fh, fw, inC / groups, outC]) from x and
 * dy, each (input pixel, dy pixel) pair a rank-1 update of the tap's [cg, og] block, accumulated in float64.
 */
export function conv2dBackpropFilter(x: Buf, dy: Buf, out: Buf, attrs: ConvAttrs): void {
  const p = problemOf(x.shape, out.shape, attrs);
  const xd = x.data;
  const dd = dy.data;
  const [xn, xh, xw, xc] = p.xs;
  const [yn, yh, yw, yc] = p.ys;
  const acc = scratch(out.data.length);
  const fRow = p.cg * p.outC;
  for (let n = 0; n < p.n; n++) {
    for (let oh = 0; oh < p.outH; oh++) {
      for (let ow = 0; ow < p.outW; ow++) {
        const yBase = n * yn + oh * yh + ow * yw;
        for (let kh = 0; kh < p.fh; kh++) {
          const ih = oh * p.sh - p.top + kh * p.dh;
          if (ih < 0 || ih >= p.inH) continue;
          for (let kw = 0; kw < p.fw; kw++) {
            const iw = ow * p.sw - p.left + kw * p.dw;
            if (iw < 0 || iw >= p.inW) continue;
            const xBase = n * xn + ih * xh + iw * xw;
            const fBase = (kh * p.fw + kw) * fRow;
            for (let g = 0; g < p.groups; g++) {
              const o0 = g * p.og;
              const o1 = o0 + p.og;
              for (let c = 0; c < p.cg; c++) {
                const xv = xd[xBase + (g * p.cg + c) * xc];
                const fOff = fBase + c * p.outC;
                for (let o = o0; o < o1; o++) acc[fOff + o] += xv * dd[yBase + o * yc];
              }
            }
          }
        }
      }
    }
  }
  store(acc, out.data);
}
