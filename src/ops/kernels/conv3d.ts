/**
 * 3-D convolution kernels: conv3d and its two gradient ops (backprop to the input, backprop to the filter), direct
 * loops over NDHWC or NCDHW data and a [fd, fh, fw, inC / groups, outC] filter. The three walk the same (output
 * voxel, filter tap) pairs (eachTap) and accumulate in float64; the padding arithmetic is conv2d's (axisGeometry),
 * one spatial dim at a time.
 */
import { axisGeometry } from './conv';
import type { Buf } from './types';

/** The attributes every 3-D conv op carries; pads is [front, back, top, bottom, left, right]. */
export interface Conv3DKernelAttrs {
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly pad: string;
  readonly pads?: readonly number[];
  readonly dataFormat: string;
  readonly groups?: number;
}

type Five = [number, number, number, number, number];

/** [n, d, h, w, c] of a rank-5 shape in its data format. */
export function ndhwc(shape: readonly number[], channelsLast: boolean): Five {
  return channelsLast
    ? [shape[0], shape[1], shape[2], shape[3], shape[4]]
    : [shape[0], shape[2], shape[3], shape[4], shape[1]];
}

/** Element strides of a rank-5 buffer's [n, d, h, w, c] dims for its data format. */
function layoutStrides(shape: readonly number[], channelsLast: boolean): Five {
  const [, a, b, c, d] = shape;
  return channelsLast ? [a * b * c * d, b * c * d, c * d, d, 1] : [a * b * c * d, c * d, d, 1, b * c * d];
}

interface Problem {
  readonly n: number;
  /** Input and output sizes [d, h, w], filter taps, strides, dilations and the padding before each dim. */
  readonly input: readonly number[];
  readonly output: readonly number[];
  readonly taps: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly before: readonly number[];
  readonly outC: number;
  readonly groups: number;
  /** Input and output channels per group. */
  readonly cg: number;
  readonly og: number;
  readonly xs: Five;
  readonly ys: Five;
}

function problemOf(xShape: readonly number[], fShape: readonly number[], attrs: Conv3DKernelAttrs): Problem {
  const channelsLast = attrs.dataFormat !== 'NCDHW';
  const [n, d, h, w] = ndhwc(xShape, channelsLast);
  const input = [d, h, w];
  const pads = attrs.pads ?? [0, 0, 0, 0, 0, 0];
  const geometry = input.map((size, i) =>
    axisGeometry(size, fShape[i], attrs.strides[i], attrs.dilations[i], attrs.pad, pads[2 * i], pads[2 * i + 1]),
  );
  const outC = fShape[4];
  const groups = attrs.groups ?? 1;
  const output = geometry.map((g) => g.out);
  const yShape = channelsLast ? [n, ...output, outC] : [n, outC, ...output];
  return {
    n,
    input,
    output,
    taps: fShape.slice(0, 3),
    strides: attrs.strides,
    dilations: attrs.dilations,
    before: geometry.map((g) => g.before),
    outC,
    groups,
    cg: fShape[3],
    og: outC / groups,
    xs: layoutStrides(xShape, channelsLast),
    ys: layoutStrides(yShape, channelsLast),
  };
}

/**
 * Calls visit(yBase, xBase, fBase) for every (output voxel, filter tap) pair whose input voxel lies inside x: the
 * offsets of the output voxel (channel 0) in y, of the input voxel (channel 0) in x and of the tap's [cg, outC]
 * block in the filter.
 */
function eachTap(p: Problem, visit: (yBase: number, xBase: number, fBase: number) => void): void {
  const [od, oh, ow] = p.output;
  const [id, ih, iw] = p.input;
  const [kd, kh, kw] = p.taps;
  const [sd, sh, sw] = p.strides;
  const [dd, dh, dw] = p.dilations;
  const [front, top, left] = p.before;
  const [xn, xd, xh, xw] = p.xs;
  const [yn, yd, yh, yw] = p.ys;
  const fRow = p.cg * p.outC;
  for (let n = 0; n < p.n; n++) {
    for (let z = 0; z < od; z++) {
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          const yBase = n * yn + z * yd + y * yh + x * yw;
          for (let a = 0; a < kd; a++) {
            const iz = z * sd - front + a * dd;
            if (iz < 0 || iz >= id) continue;
            for (let b = 0; b < kh; b++) {
              const iy = y * sh - top + b * dh;
              if (iy < 0 || iy >= ih) continue;
              for (let c = 0; c < kw; c++) {
                const ix = x * sw - left + c * dw;
                if (ix < 0 || ix >= iw) continue;
                visit(yBase, n * xn + iz * xd + iy * xh + ix * xw, ((a * kh + b) * kw + c) * fRow);
              }
            }
          }
        }
      }
    }
  }
}

function store(from: Float64Array, to: Buf['data']): void {
  for (let i = 0; i < to.length; i++) to[i] = from[i];
}

/** y[n, z, y, x, o] = Σ x[n, z·sd − front + a·dd, …, g·cg + c] · f[a, b, c', c, o] over the taps and o's group. */
export function conv3d(x: Buf, filter: Buf, out: Buf, attrs: Conv3DKernelAttrs): void {
  const p = problemOf(x.shape, filter.shape, attrs);
  const xd = x.data;
  const fd = filter.data;
  const xc = p.xs[4];
  const yc = p.ys[4];
  const acc = new Float64Array(out.data.length);
  eachTap(p, (yBase, xBase, fBase) => {
    for (let g = 0; g < p.groups; g++) {
      const o0 = g * p.og;
      const o1 = o0 + p.og;
      for (let c = 0; c < p.cg; c++) {
        const xv = xd[xBase + (g * p.cg + c) * xc];
        const fOff = fBase + c * p.outC;
        for (let o = o0; o < o1; o++) acc[yBase + o * yc] += xv * fd[fOff + o];
      }
    }
  });
  store(acc, out.data);
}

/** dx (shaped as `out`) of conv3d from dy and the filter: each dy voxel scattered back through the taps. */
export function conv3dBackpropInput(dy: Buf, filter: Buf, out: Buf, attrs: Conv3DKernelAttrs): void {
  const p = problemOf(out.shape, filter.shape, attrs);
  const dd = dy.data;
  const fd = filter.data;
  const xc = p.xs[4];
  const yc = p.ys[4];
  const acc = new Float64Array(out.data.length);
  eachTap(p, (yBase, xBase, fBase) => {
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
  });
  store(acc, out.data);
}

/** df (shaped as `out`, [fd, fh, fw, inC / groups, outC]) of conv3d from x and dy. */
export function conv3dBackpropFilter(x: Buf, dy: Buf, out: Buf, attrs: Conv3DKernelAttrs): void {
  const p = problemOf(x.shape, out.shape, attrs);
  const xd = x.data;
  const dd = dy.data;
  const xc = p.xs[4];
  const yc = p.ys[4];
  const acc = new Float64Array(out.data.length);
  eachTap(p, (yBase, xBase, fBase) => {
    for (let g = 0; g < p.groups; g++) {
      const o0 = g * p.og;
      const o1 = o0 + p.og;
      for (let c = 0; c < p.cg; c++) {
        const xv = xd[xBase + (g * p.cg + c) * xc];
        const fOff = fBase + c * p.outC;
        for (let o = o0; o < o1; o++) acc[fOff + o] += xv * dd[yBase + o * yc];
      }
    }
  });
  store(acc, out.data);
}
