import { logSoftmax, reduce, softmax, softmaxCrossEntropy, type Buf } from '../../src/ops/kernels';
import { bindWasmKernels } from '../../src/backend';
import { WasmBufKernels, loadWasmKernels } from '../../src/backend/wasm';
import { Rng, expectCloseF32, outF32, randF32, sizeOf, toF64 } from './helpers';

const kernels = new WasmBufKernels(loadWasmKernels({ initialBytes: 32 << 20 }));
/** The kernels a session runs: the wasm ones behind the binding table's guard (dtype, size, JS fallback). */
const bound = bindWasmKernels(kernels);

/** Shapes whose last axis runs through the 4-lane tails, with 1- and many-row cases. */
const SHAPES = [[1], [3], [4], [2, 7], [5, 16], [3, 33], [2, 3, 10], [1, 1, 1001], [64, 10]];

/** The JS kernel in float64 on the same float32 inputs: the reference the float32 result must round near. */
function reference(run: (out: Buf) => void, shape: number[]): Float64Array {
  const out: Buf = { data: new Float64Array(sizeOf(shape)), shape };
  run(out);
  return out.data as Float64Array;
}

function withSpecials(x: Buf): Buf {
  const d = x.data;
  if (d.length > 40) d.set([NaN], 3);
  if (d.length > 40) d.set([-Infinity], 20);
  return x;
}

describe('wasm softmax and logSoftmax over the last axis', () => {
  test('softmax matches the JS kernel on odd row lengths and large logits', () => {
    const rng = new Rng(40);
    for (const shape of SHAPES) {
      const x = randF32(rng, shape, 30);
      const out = outF32(shape);
      kernels.softmax(x, shape.length - 1, out);
      expectCloseF32(
        out.data,
        reference((o) => softmax(toF64(x), shape.length - 1, o), shape),
        3e-7,
        `${shape}`,
      );
    }
  });

  test('logSoftmax matches the JS kernel on odd row lengths and large logits', () => {
    const rng = new Rng(41);
    for (const shape of SHAPES) {
      const x = randF32(rng, shape, 30);
      const out = outF32(shape);
      kernels.logSoftmax(x, shape.length - 1, out);
      expectCloseF32(
        out.data,
        reference((o) => logSoftmax(toF64(x), shape.length - 1, o), shape),
        1e-6,
        `${shape}`,
      );
    }
  });

  test('NaN rows, all −∞ rows and −∞ entries come out as in the JS kernel', () => {
    const data = [1, NaN, 2, 3, -Infinity, -Infinity, -Infinity, -Infinity, 4, -Infinity, -Infinity, 5];
    const x: Buf = { data: Float32Array.from(data), shape: [3, 4] };
    for (const [wasmKernel, jsKernel] of [
      [kernels.softmax, softmax],
      [kernels.logSoftmax, logSoftmax],
    ] as const) {
      const out = outF32([3, 4]);
      const expected = outF32([3, 4]);
      wasmKernel.call(kernels, x, 1, out);
      jsKernel(x, 1, expected);
      expectCloseF32(out.data, expected.data, 1e-6);
    }
  });

  test('runs the JS kernel along other axes', () => {
    const rng = new Rng(42);
    const x = randF32(rng, [3, 5, 2]);
    const out = outF32([3, 5, 2]);
    const expected = outF32([3, 5, 2]);
    expect(kernels.softmax(x, 1, out)).toBe(false); // declined: out keeps outF32's fill
    expect(out.data.every((v) => v === -12345)).toBe(true);
    bound.get('softmax')?.([x], out, { axis: 1 });
    softmax(x, 1, expected);
    expect(Array.from(out.data)).toEqual(Array.from(expected.data));
  });
});

describe('wasm softmax cross-entropy over the last axis', () => {
  test('matches the JS kernel for one-hot and soft labels', () => {
    const rng = new Rng(43);
    for (const shape of SHAPES) {
      const logits = randF32(rng, shape, 10);
      const labels = randF32(rng, shape);
      const cols = shape[shape.length - 1];
      for (let i = 0; i < labels.data.length; i++) {
        labels.data[i] = i % cols === i % 3 ? Math.abs(labels.data[i]) : 0;
      }
      const outShape = shape.slice(0, -1);
      const out = outF32(outShape);
      kernels.softmaxCrossEntropy(labels, logits, shape.length - 1, out);
      const expected = reference(
        (o) => softmaxCrossEntropy(toF64(labels), toF64(logits), shape.length - 1, o),
        outShape,
      );
      expectCloseF32(out.data, expected, 1e-6, `${shape}`);
    }
  });

  test('skips classes with a zero label, so a masked −∞ logit does not give NaN', () => {
    const labels: Buf = { data: Float32Array.from([0, 1, 0, 0, 0]), shape: [1, 5] };
    const logits: Buf = { data: Float32Array.from([-Infinity, 2, 1, -Infinity, 0.5]), shape: [1, 5] };
    const out = outF32([1]);
    kernels.softmaxCrossEntropy(labels, logits, 1, out);
    const expected = -(2 - Math.log(Math.exp(2) + Math.exp(1) + Math.exp(0.5)));
    expect(out.data[0]).toBeCloseTo(expected, 6);
  });
});

describe('wasm reductions', () => {
  const cases: [number[], number[]][] = [
    [[7], [0]],
    [[1001], [0]],
    [[3, 5], [1]],
    [[2, 3, 9], [2]],
    [
      [2, 3, 9],
      [1, 2],
    ],
    [
      [2, 3, 9],
      [0, 1, 2],
    ],
    [[5, 1, 33], [2]],
    [[4, 0], [1]],
  ];

  for (const kind of ['sum', 'max'] as const) {
    test(`${kind} over the trailing axes matches the JS kernel, NaN and −∞ included`, () => {
      const rng = new Rng(kind.length);
      for (const [shape, axes] of cases) {
        const x = withSpecials(randF32(rng, shape));
        const outShape = shape.filter((_, d) => !axes.includes(d));
        const out = outF32(outShape);
        const expected = outF32(outShape);
        // An empty input is declined (the binding table's guard then runs the JS kernel, as here).
        expect(kernels.reduce(kind, x, axes, out)).toBe(sizeOf(shape) > 0);
        if (sizeOf(shape) === 0) reduce(kind, x, axes, out);
        reduce(kind, x, axes, expected);
        expectCloseF32(out.data, expected.data, 1e-6, `${kind} ${shape} over ${axes}`);
      }
    });
  }

  test('sum over the leading axes (column sums) matches the JS kernel, strips of 8 and ragged tails', () => {
    const rng = new Rng(50);
    for (const [shape, axes] of [
      [[128, 10], [0]],
      [[3, 17], [0]],
      [
        [2, 3, 24],
        [0, 1],
      ],
      [[1, 7], [0]],
      [[0, 9], [0]],
    ] as [number[], number[]][]) {
      const x = randF32(rng, shape);
      const outShape = shape.slice(axes.length);
      const out = outF32(outShape);
      const expected = outF32(outShape);
      // An empty input is declined (the binding table's guard then runs the JS kernel, as here).
      expect(kernels.reduce('sum', x, axes, out)).toBe(sizeOf(shape) > 0);
      if (sizeOf(shape) === 0) reduce('sum', x, axes, out);
      reduce('sum', x, axes, expected);
      expectCloseF32(out.data, expected.data, 1e-6, `${shape} over ${axes}`);
    }
  });

  test('sums 2^18 floats in float64, as the JS kernel does', () => {
    const rng = new Rng(51);
    const x = randF32(rng, [1 << 18]);
    for (let i = 0; i < x.data.length; i++) x.data[i] += 1000;
    const out = outF32([]);
    const expected = outF32([]);
    kernels.reduce('sum', x, [0], out);
    reduce('sum', x, [0], expected);
    expect(out.data[0]).toBe(expected.data[0]);
  });

  test('runs the JS kernel for middle axes and max over leading axes', () => {
    const rng = new Rng(52);
    const x = randF32(rng, [3, 4, 5]);
    for (const [kind, axes] of [
      ['sum', [1]],
      ['max', [0]],
    ] as ['sum' | 'max', number[]][]) {
      const outShape = [3, 4, 5].filter((_, d) => !axes.includes(d));
      const out = outF32(outShape);
      const expected = outF32(outShape);
      expect(kernels.reduce(kind, x, axes, out)).toBe(false); // declined: out keeps outF32's fill
      expect(out.data.every((v) => v === -12345)).toBe(true);
      bound.get(kind)?.([x], out, { axes });
      reduce(kind, x, axes, expected);
      expect(Array.from(out.data)).toEqual(Array.from(expected.data));
    }
  });
});
