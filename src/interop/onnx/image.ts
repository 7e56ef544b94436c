/**
 * The ONNX mapping of the image family, both ways. Export: a resize is ONNX Resize over the NCHW transpose (sizes
 * given, so ONNX Runtime samples with the same in / out ratio); a resize gradient, which ONNX lacks, is its
 * separable form A_hᵀ · dy · A_w as two MatMuls with the constant sampling matrices. Import: Resize (opset 10 and
 * later) and Upsample (7–9) become resizes where the ONNX sampling is exactly one of tfjs's three modes, and a
 * GraphError saying which attribute has no exact form otherwise.
 */
import { GraphError, isFloat, NDArray, Tensor } from '../../graph';
import * as ops from '../../ops';
import { attrsOf, RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR } from '../../ops';
import type { Rule, RuleArgs } from './export-ops';
import type { ImportArgs, ImportRule, SymDim } from './import-ops';

// ---- export ------------------------------------------------------------------------------------------------------

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** ONNX's coordinate_transformation_mode (and nearest_mode) for tfjs's flags. */
function onnxModes(alignCorners: boolean, halfPixelCenters: boolean, bilinear: boolean) {
  const ctm = alignCorners ? 'align_corners' : halfPixelCenters ? 'half_pixel' : 'asymmetric';
  return {
    mode: { string: bilinear ? 'linear' : 'nearest' },
    coordinate_transformation_mode: { string: ctm },
    ...(bilinear ? {} : { nearest_mode: { string: alignCorners || halfPixelCenters ? 'round_prefer_ceil' : 'floor' } }),
  };
}

const resizeRule =
  (bilinear: boolean): Rule =>
  ({ w, node, inputs: [x], infos: [xi], out }) => {
    const { size, alignCorners, halfPixelCenters } = attrsOf(
      bilinear ? RESIZE_BILINEAR : RESIZE_NEAREST_NEIGHBOR,
      node,
    );
    const nchw = w.node('Transpose', [x], { perm: { ints: TO_NCHW } });
    const sizes = w.vector([w.dim(x, xi.shape, 0), w.dim(x, xi.shape, 3), size[0], size[1]]);
    const resized = w.node('Resize', [nchw, '', '', sizes], onnxModes(alignCorners, halfPixelCenters, bilinear));
    return w.node('Transpose', [resized], { perm: { ints: TO_NHWC } }, out);
  };

/** dx = A_hᵀ · dy · A_w per image and channel, with the sampling matrices as constants. */
const resizeGradRule =
  (bilinear: boolean): Rule =>
  ({ w, node, inputs: [dy], infos: [dyi], out }: RuleArgs) => {
    const { alignCorners, halfPixelCenters } = node.attrs as { alignCorners: boolean; halfPixelCenters: boolean };
    const [, H, W] = node.shape;
    const [, h, wd] = dyi.shape;
    if (H === null || W === null || h === null || wd === null) {
      throw new GraphError(`exportOnnx: ${node.op} '${node.name}' needs the heights and widths known to be exported`);
    }
    const matrix = (inSize: number, outSize: number, transposed: boolean): string => {
      const m = ops.resizeMatrix(inSize, outSize, alignCorners, halfPixelCenters, bilinear);
      const data = node.dtype === 'float64' ? new Float64Array(m.length) : new Float32Array(m.length);
      for (let i = 0; i < outSize; i++) {
        for (let j = 0; j < inSize; j++) data[transposed ? j * outSize + i : i * inSize + j] = m[i * inSize + j];
      }
      return w.tensor(new NDArray(data, transposed ? [inSize, outSize] : [outSize, inSize], node.dtype));
    };
    const nchw = w.node('Transpose', [dy], { perm: { ints: TO_NCHW } });
    const rows = w.node('MatMul', [matrix(H, h, true), nchw]);
    const cols = w.node('MatMul', [rows, matrix(W, wd, false)]);
    return w.node('Transpose', [cols], { perm: { ints: TO_NHWC } }, out);
  };

export const IMAGE_EXPORT_RULES: { readonly [op: string]: Rule } = {
  resizeBilinear: resizeRule(true),
  resizeNearestNeighbor: resizeRule(false),
  resizeBilinearGrad: resizeGradRule(true),
  resizeNearestNeighborGrad: resizeGradRule(false),
};

// ---- import ------------------------------------------------------------------------------------------------------

/** Which tfjs mode an ONNX sampling is: [alignCorners, halfPixelCenters], or why none is. */
function tfjsModes(
  a: ImportArgs,
  linear: boolean,
  ctm: string,
  nearestMode: string,
  outSizes: readonly number[],
): [boolean, boolean] {
  const what = `Resize ${linear ? 'linear' : 'nearest'} with coordinate_transformation_mode '${ctm}'`;
  const rounding = (want: string): void => {
    if (!linear && nearestMode !== want) {
      throw a.fail(`${what} and nearest_mode '${nearestMode}' has no exact form (it needs nearest_mode '${want}')`);
    }
  };
  switch (ctm) {
    case 'asymmetric':
      rounding('floor');
      return [false, false];
    case 'align_corners':
      rounding('round_prefer_ceil');
      return [true, false];
    case 'half_pixel':
      rounding('round_prefer_ceil');
      return [false, true];
    case 'tf_half_pixel_for_nn':
      if (linear) break;
      rounding('floor');
      return [false, true];
    case 'pytorch_half_pixel': {
      // half_pixel, except that an axis resized to 1 samples at 0 (the asymmetric mode's first pixel).
      rounding('round_prefer_ceil');
      const ones = outSizes.filter((s) => s === 1).length;
      if (ones === 0) return [false, true];
      if (ones === outSizes.length) return [false, false];
      throw a.fail(`${what} resizing one spatial axis to 1 and not the other has no exact form`);
    }
    default:
      break;
  }
  throw a.fail(`${what} has no exact form (asymmetric, align_corners, half_pixel and pytorch_half_pixel do)`);
}

/** Whether a run-time dim is dim d of x: read from x itself, or from the input of the transpose x is. */
function sameDim(v: SymDim, x: Tensor, d: number): boolean {
  if ((v.factor ?? 1) !== 1) return false;
  if (v.of.id === x.id) return v.axis === d;
  const node = x.node;
  if (node.op !== 'transpose' || node.inputs[0] !== v.of.id) return false;
  const { perm } = ops.attrsOf(ops.TRANSPOSE, node);
  return perm[d] === v.axis;
}

/** The output sizes of the two spatial axes from ONNX scales (which must give whole sizes) or sizes. */
function spatialSizes(
  a: ImportArgs,
  x: Tensor,
  scales: readonly number[] | null,
  sizes: readonly (number | SymDim)[] | null,
): { axes: [number, number]; out: [number, number]; upsampling: boolean } {
  const given = scales ?? sizes ?? [];
  const what = scales ? 'scales' : 'sizes';
  if (given.length !== 4) throw a.fail(`Resize of a rank-4 tensor needs 4 ${what}, got ${given.length}`);
  // A kept dim: scale 1, a size equal to the known dim, or a size read from that very dim at run time.
  const keeps = (d: number): boolean => {
    const v = given[d];
    if (typeof v !== 'number') return sameDim(v, x, d);
    return scales ? v === 1 : x.shape[d] === v;
  };
  let axes: [number, number];
  if (keeps(0) && keeps(1)) axes = [2, 3];
  else if (keeps(0) && keeps(3)) axes = [1, 2];
  else {
    const shown = given.map((v) => (typeof v === 'number' ? v : '?')).join(', ');
    throw a.fail(
      `Resize ${what} [${shown}] of a ${JSON.stringify(x.shape)} tensor must keep the batch and channel axes ` +
        '(NCHW or NHWC, with those dims known)',
    );
  }
  const out = axes.map((d) => {
    const n = x.shape[d];
    const v = given[d];
    if (n === null || typeof v !== 'number') throw a.fail(`Resize needs the size of spatial axis ${d} known`);
    if (!scales) return v;
    const size = Math.floor(n * v);
    if (size !== n * v || size < 1) {
      throw a.fail(`Resize scale ${v} of axis ${d} (size ${n}) does not give a whole size, so it has no exact form`);
    }
    return size;
  }) as [number, number];
  return { axes, out, upsampling: axes.every((d, k) => out[k] >= (x.shape[d] as number)) };
}

/** Resize at opset 10 and later, Upsample at 7–9 (opType tells). */
export const resizeImportRule =
  (upsample: boolean): ImportRule =>
  (a) => {
    const x = a.tensor(0);
    if (x.rank !== 4) throw a.fail(`only rank-4 images are resized (NCHW or NHWC), got rank ${x.rank}`);
    const mode = a.attrs.string('mode', 'nearest');
    const linear = mode === 'linear' || mode === 'bilinear';
    if (!linear && mode !== 'nearest')
      throw a.fail(`Resize mode '${mode}' has no lazygrad form (nearest and linear do)`);
    if (linear && !isFloat(x.dtype)) throw a.fail(`Resize linear of ${x.dtype} has no exact form (float only)`);
    const old = upsample || a.opset < 11;
    if (a.opset >= 18) {
      if (a.attrs.int('antialias', 0) !== 0) throw a.fail('Resize with antialias has no exact form');
      if (a.attrs.has('axes'))
        throw a.fail('Resize with an axes attribute is not read; give scales or sizes for every axis');
      const policy = a.attrs.string('keep_aspect_ratio_policy', 'stretch');
      if (policy !== 'stretch') throw a.fail(`Resize keep_aspect_ratio_policy '${policy}' is not read`);
    }
    let scales: number[] | null = null;
    let sizes: (number | SymDim)[] | null = null;
    if (upsample && a.opset < 9) scales = readFloats(a);
    else if (old) scales = a.numbers(1, 'scales');
    else {
      const s = a.has(2) ? a.numbers(2, 'scales') : [];
      if (s.length > 0) scales = s;
      else sizes = sizeDims(a);
    }
    if (scales !== null && scales.length === 4 && x.shape.some((d, i) => d === null && scales?.[i] !== 1)) {
      return repeatPixels(a, x, scales, linear, old);
    }
    const { axes, out, upsampling } = spatialSizes(a, x, scales, sizes);
    let alignCorners = false;
    let halfPixelCenters = false;
    if (old) {
      // Before opset 11 the sampling is asymmetric, and nearest floors only when upsampling.
      if (!linear && !upsampling)
        throw a.fail(`${upsample ? 'Upsample' : 'Resize-10'} nearest downsampling has no exact form`);
    } else {
      const ctm = a.attrs.string('coordinate_transformation_mode', 'half_pixel');
      [alignCorners, halfPixelCenters] = tfjsModes(
        a,
        linear,
        ctm,
        a.attrs.string('nearest_mode', 'round_prefer_floor'),
        out,
      );
    }
    const resize = linear ? ops.resizeBilinear : ops.resizeNearestNeighbor;
    if (axes[0] === 1) return resize(x, out, alignCorners, halfPixelCenters);
    const nhwc = ops.transpose(x, TO_NHWC);
    return ops.transpose(resize(nhwc, out, alignCorners, halfPixelCenters), TO_NCHW);
  };

/**
 * A nearest Resize by whole scales of an image whose sizes are known only at run time: with the asymmetric and
 * half-pixel samplings (not align_corners) each output pixel i along an axis of scale s reads input pixel ⌊i / s⌋,
 * so each pixel is repeated s times: expandDims after each spatial axis, tile by the scales, and reshapeDims to
 * [..., H·sH, W·sW] (the sizes read from x when the session runs).
 */
function repeatPixels(a: ImportArgs, x: Tensor, scales: readonly number[], linear: boolean, old: boolean): Tensor {
  const axes = scales[0] === 1 && scales[1] === 1 ? [2, 3] : scales[0] === 1 && scales[3] === 1 ? [1, 2] : null;
  const fail = (why: string): GraphError =>
    a.fail(
      `Resize by scales [${scales.join(', ')}] of a ${JSON.stringify(x.shape)} tensor, sizes known only at run time: ${why}`,
    );
  if (axes === null) throw fail('it must keep the batch and channel axes (NCHW or NHWC)');
  if (linear) throw fail('only nearest is read (each pixel repeated), not linear');
  if (axes.some((d) => !(Number.isInteger(scales[d]) && scales[d] >= 1))) throw fail('the scales must be whole');
  if (!old) {
    const [alignCorners] = tfjsModes(
      a,
      false,
      a.attrs.string('coordinate_transformation_mode', 'half_pixel'),
      a.attrs.string('nearest_mode', 'round_prefer_floor'),
      [2, 2],
    );
    if (alignCorners) throw fail('align_corners does not repeat pixels');
  }
  const expanded = ops.expandDims(x, [axes[0] + 1, axes[1] + 2]);
  const reps = [1, 1, 1, 1, 1, 1];
  reps[axes[0] + 1] = scales[axes[0]];
  reps[axes[1] + 2] = scales[axes[1]];
  const tiled = ops.tile(expanded, reps);
  return ops.reshapeDims(
    tiled,
    x.shape.map((d, i) => (d !== null ? d * scales[i] : { of: x, axis: i, factor: scales[i] })),
  );
}

/** Resize's sizes input: numbers, or a shape with dims known only at run time. */
function sizeDims(a: ImportArgs): (number | SymDim)[] {
  if (!a.has(3)) throw a.fail('Resize needs scales or sizes');
  const v = a.value(3);
  if (v.kind === 'shape') return [...v.dims];
  return a.numbers(3, 'sizes');
}

/** Upsample-7's scales attribute (floats). */
function readFloats(a: ImportArgs): number[] {
  const proto = a.node.attribute?.find((attr) => attr.name === 'scales');
  if (proto === undefined || proto.floats === undefined || proto.floats === null)
    throw a.fail("attribute 'scales' is missing");
  return Array.from(proto.floats);
}

/** DepthToSpace: DCR (the default, TensorFlow's order) is depthToSpace NCHW; CRD takes the depth block-minor. */
const depthToSpaceRule: ImportRule = (a) => {
  const x = a.tensor(0);
  const s = a.attrs.int('blocksize');
  const mode = a.opset >= 11 ? a.attrs.string('mode', 'DCR') : 'DCR';
  if (mode === 'DCR') return ops.depthToSpace(x, s, 'NCHW');
  if (mode !== 'CRD') throw a.fail(`DepthToSpace mode '${mode}' is not DCR or CRD`);
  if (x.rank !== 4) throw a.fail(`DepthToSpace needs a rank-4 input, got rank ${x.rank}`);
  const [n, c, h, w] = x.shape;
  if (c === null || h === null || w === null) throw a.fail('DepthToSpace CRD needs the depth, height and width known');
  if (c % (s * s) !== 0) throw a.fail(`the depth ${c} must be divisible by blocksize² = ${s * s}`);
  const B = n ?? -1;
  const blocks = ops.transpose(ops.reshape(x, [B, c / (s * s), s, s, h, w]), [0, 1, 4, 2, 5, 3]);
  return ops.reshape(blocks, [B, c / (s * s), h * s, w * s]);
};

export const IMAGE_IMPORT_RULES: { readonly [opType: string]: ImportRule } = {
  Resize: resizeImportRule(false),
  Upsample: resizeImportRule(true),
  DepthToSpace: depthToSpaceRule,
  SpaceToDepth: (a) => ops.spaceToDepth(a.tensor(0), a.attrs.int('blocksize'), 'NCHW'),
};
