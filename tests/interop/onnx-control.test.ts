/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * ONNX If, Loop and Scan imported as cond, whileLoop and scan, checked against onnxruntime-node on hand-built
 * models: both If branches, outer values read by subgraphs (captures), nested subgraphs, loops of 0, 1 and many
 * iterations in both of Loop's forms, and Scan's axes and directions.
 */
import { GraphError, importOnnx, NDArray } from '../../src';
import { Rng } from '../ops/util';
import type { onnx } from '../../src/interop/onnx/proto';
import { boolTensor, compareWithOrt, Feed, graph, info, init, int64, model, node } from './onnx-build';

const f32 = (data: readonly number[], shape: readonly number[]): Feed => ({ data, shape, type: 'float32' });
const randoms = (n: number, seed: number): number[] => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.uniform(-1, 1));
};

describe('If', () => {
  // then: x * w (w an outer initializer) + Relu(y); else: x - y (outer inputs). Both read outer values by name.
  const thenBranch = graph(
    [node('Mul', ['x', 'w'], ['xw']), node('Relu', ['y'], ['ry']), node('Add', ['xw', 'ry'], ['t_out'])],
    [],
    [info('t_out', 'float32', [2, 3])],
  );
  const elseBranch = graph([node('Sub', ['x', 'y'], ['e_out'])], [], [info('e_out', 'float32', [2, 3])]);
  const bytes = model(
    graph(
      [node('If', ['p'], ['out'], { then_branch: { graph: thenBranch }, else_branch: { graph: elseBranch } })],
      [info('p', 'bool', []), info('x', 'float32', [2, 3]), info('y', 'float32', [2, 3])],
      [info('out', 'float32', [2, 3])],
      [init('w', new NDArray(Float32Array.from(randoms(6, 1)), [2, 3]))],
    ),
  );

  test.each([true, false])('a run-time condition (%s) runs its branch, reading outer values', async (p) => {
    const { diffs } = await compareWithOrt(bytes, {
      p: { data: [p ? 1 : 0], shape: [], type: 'bool' },
      x: f32(randoms(6, 2), [2, 3]),
      y: f32(randoms(6, 3), [2, 3]),
    });
    expect(diffs[0]).toBeLessThan(1e-6);
  });

  test('becomes one cond whose branches capture the outer values', () => {
    const { graph: g } = importOnnx(bytes);
    const conds = g.nodes.filter((n) => n.op === 'cond');
    expect(conds).toHaveLength(1);
    // pred, then the captured x, w, y (shared by both branches).
    expect(conds[0].inputs).toHaveLength(4);
  });

  test('a condition known while importing inlines the taken branch (whose rank may differ from the other)', async () => {
    const rank1 = graph([node('ReduceSum', ['x'], ['s'], { keepdims: { int: 0 } })], [], [info('s', 'float32', [])]);
    const rank2 = graph([node('Identity', ['x'], ['i'])], [], [info('i', 'float32', [2, 3])]);
    for (const known of [true, false]) {
      const bytes2 = model(
        graph(
          [
            node('Constant', [], ['k'], { value: { tensor: boolTensor('', [known], []) } }),
            node('If', ['k'], ['out'], { then_branch: { graph: rank1 }, else_branch: { graph: rank2 } }),
          ],
          [info('x', 'float32', [2, 3])],
          [info('out', 'float32', null)],
        ),
      );
      const { graph: g } = importOnnx(bytes2);
      expect(g.nodes.some((n) => n.op === 'cond')).toBe(false);
      const { diffs } = await compareWithOrt(bytes2, { x: f32(randoms(6, 4), [2, 3]) });
      expect(diffs[0]).toBeLessThan(1e-6);
    }
  });

  test('nested Ifs: an inner branch reads a value of the outer branch and of the main graph', async () => {
    const innerThen = graph([node('Mul', ['a', 'x'], ['it'])], [], [info('it', 'float32', [3])]);
    const innerElse = graph([node('Neg', ['a'], ['ie'])], [], [info('ie', 'float32', [3])]);
    const outerThen = graph(
      [
        node('Add', ['x', 'x'], ['a']),
        node('If', ['q'], ['inner'], { then_branch: { graph: innerThen }, else_branch: { graph: innerElse } }),
      ],
      [],
      [info('inner', 'float32', [3])],
    );
    const outerElse = graph([node('Exp', ['x'], ['oe'])], [], [info('oe', 'float32', [3])]);
    const bytes2 = model(
      graph(
        [node('If', ['p'], ['out'], { then_branch: { graph: outerThen }, else_branch: { graph: outerElse } })],
        [info('p', 'bool', []), info('q', 'bool', []), info('x', 'float32', [3])],
        [info('out', 'float32', [3])],
      ),
    );
    for (const [p, q] of [
      [1, 1],
      [1, 0],
      [0, 1],
    ]) {
      const { diffs } = await compareWithOrt(bytes2, {
        p: { data: [p], shape: [], type: 'bool' },
        q: { data: [q], shape: [], type: 'bool' },
        x: f32([0.5, -1, 2], [3]),
      });
      expect(diffs[0]).toBeLessThan(1e-6);
    }
  });

  test('branches of different ranks under a run-time condition are an error naming the node', () => {
    const a = graph([node('Identity', ['x'], ['a'])], [], [info('a', 'float32', [3])]);
    const b = graph([node('Unsqueeze', ['x', 'ax'], ['b'])], [], [info('b', 'float32', [1, 3])], [int64('ax', [0])]);
    const bytes2 = model(
      graph(
        [node('If', ['p'], ['out'], { then_branch: { graph: a }, else_branch: { graph: b } })],
        [info('p', 'bool', []), info('x', 'float32', [3])],
        [info('out', 'float32', null)],
      ),
    );
    expect(() => importOnnx(bytes2)).toThrow(/node 'If_out' \(If\).*same dtypes and ranks/);
  });
});

describe('Loop', () => {
  // Body: (i, cond, acc) → (cond, acc + x·i, [acc·2]): x is an outer value; the scan output stacks acc·2.
  const body = (condOut: onnx.INodeProto[], condName: string) =>
    graph(
      [
        node('Cast', ['i'], ['fi'], { to: { int: 1 } }),
        node('Mul', ['x', 'fi'], ['xi']),
        node('Add', ['acc', 'xi'], ['acc_out']),
        node('Mul', ['acc_out', 'two'], ['scan_out']),
        ...condOut,
      ],
      [info('i', 'int64', []), info('c', 'bool', []), info('acc', 'float32', [2])],
      [info(condName, 'bool', []), info('acc_out', 'float32', [2]), info('scan_out', 'float32', [2])],
      [init('two', new NDArray(Float32Array.from([2, 2]), [2]))],
    );

  test.each([0, 1, 5])('a known trip count and a condition passed through (%i iterations) is a scan', async (m) => {
    const bytes = model(
      graph(
        [
          node('Loop', ['M', '', 'acc0'], ['acc', 'ys'], {
            body: { graph: body([node('Identity', ['c'], ['c_out'])], 'c_out') },
          }),
        ],
        [info('x', 'float32', [2]), info('acc0', 'float32', [2])],
        [info('acc', 'float32', [2]), info('ys', 'float32', null)],
        [int64('M', [m], [])],
      ),
    );
    expect(importOnnx(bytes).graph.nodes.some((n) => n.op === 'scan')).toBe(true);
    const { diffs } = await compareWithOrt(bytes, { x: f32([0.5, -1.5], [2]), acc0: f32([1, 2], [2]) });
    expect(Math.max(...diffs)).toBeLessThan(1e-5);
  });

  // cond_out = ReduceSum(acc_out) < limit: the loop ends when the sum reaches the limit (or after M iterations).
  const whileBody = graph(
    [
      node('Cast', ['i'], ['fi'], { to: { int: 1 } }),
      node('Mul', ['x', 'fi'], ['xi']),
      node('Add', ['acc', 'xi'], ['acc_out']),
      node('ReduceSum', ['acc_out'], ['s'], { keepdims: { int: 0 } }),
      node('Less', ['s', 'limit'], ['c_out']),
    ],
    [info('i', 'int64', []), info('c', 'bool', []), info('acc', 'float32', [2])],
    [info('c_out', 'bool', []), info('acc_out', 'float32', [2])],
  );

  test.each([
    ['no trip count, ends by its condition', [], -1, 20],
    ['a trip count that ends it first', [3], -1, 100],
    ['a condition false at the start (0 iterations)', [10], 0, 20],
    ['one iteration', [10], -1, 0.5],
  ])('a data-dependent loop: %s', async (_, m, cond0, limit) => {
    const inputs = [m.length > 0 ? 'M' : '', cond0 === 0 ? 'c0' : '', 'acc0'];
    const bytes = model(
      graph(
        [node('Loop', inputs, ['acc'], { body: { graph: whileBody } })],
        [info('x', 'float32', [2]), info('acc0', 'float32', [2]), info('limit', 'float32', [])],
        [info('acc', 'float32', [2])],
        [...(m.length > 0 ? [int64('M', m, [])] : []), boolTensor('c0', [false], [])],
      ),
    );
    const { graph: g } = importOnnx(bytes);
    expect(g.nodes.some((n) => n.op === 'while')).toBe(true);
    const { diffs } = await compareWithOrt(bytes, {
      x: f32([1, 2], [2]),
      acc0: f32([0, 0.25], [2]),
      limit: f32([limit], []),
    });
    expect(diffs[0]).toBeLessThan(1e-5);
  });

  test('a trip count given at run time', async () => {
    const bytes = model(
      graph(
        [node('Loop', ['M', '', 'acc0'], ['acc'], { body: { graph: whileBody } })],
        [info('M', 'int64', []), info('x', 'float32', [2]), info('acc0', 'float32', [2]), info('limit', 'float32', [])],
        [info('acc', 'float32', [2])],
      ),
    );
    for (const m of [0, 2, 4]) {
      const { diffs } = await compareWithOrt(bytes, {
        M: { data: [m], shape: [], type: 'int64' },
        x: f32([1, 2], [2]),
        acc0: f32([0, 0.25], [2]),
        limit: f32([1000], []),
      });
      expect(diffs[0]).toBeLessThan(1e-5);
    }
  });

  test('scan outputs of a loop that may end early are refused, saying why', () => {
    const bytes = model(
      graph(
        [
          node('Loop', ['M', '', 'acc0'], ['acc', 'ys'], {
            body: {
              graph: body(
                [
                  node('Less', ['acc_out', 'acc_out'], ['lt']),
                  node('ReduceMax', ['lt'], ['c_out'], { keepdims: { int: 0 } }),
                ],
                'c_out',
              ),
            },
          }),
        ],
        [info('x', 'float32', [2]), info('acc0', 'float32', [2])],
        [info('acc', 'float32', [2]), info('ys', 'float32', null)],
        [int64('M', [4], [])],
      ),
    );
    expect(() => importOnnx(bytes)).toThrow(/Loop.*scan outputs.*may end early/);
  });
});

describe('Scan', () => {
  // States: sum [3]; scan inputs: a [T, 3] along axis 0 and b [3, T] along axis 1 (reversed); outputs: the running
  // sum along axis 0 and a·b along axis 1 (prepended).
  const body = graph(
    [node('Add', ['s', 'a_t'], ['s_out']), node('Mul', ['a_t', 'b_t'], ['ab']), node('Mul', ['s_out', 'k'], ['y'])],
    [info('s', 'float32', [3]), info('a_t', 'float32', [3]), info('b_t', 'float32', [3])],
    [info('s_out', 'float32', [3]), info('y', 'float32', [3]), info('ab', 'float32', [3])],
  );
  test.each([
    ['defaults', {}],
    [
      'axes and directions',
      {
        scan_input_axes: { ints: [0, 1] },
        scan_input_directions: { ints: [0, 1] },
        scan_output_axes: { ints: [0, 1] },
        scan_output_directions: { ints: [1, 0] },
      },
    ],
  ])('%s, reading an outer value', async (_, attrs) => {
    const bAxis1 = 'scan_input_axes' in attrs;
    const bytes = model(
      graph(
        [
          node('Scan', ['s0', 'a', 'b'], ['s', 'ys', 'abs'], {
            body: { graph: body },
            num_scan_inputs: { int: 2 },
            ...attrs,
          }),
        ],
        [
          info('s0', 'float32', [3]),
          info('a', 'float32', [4, 3]),
          info('b', 'float32', bAxis1 ? [3, 4] : [4, 3]),
          info('k', 'float32', [3]),
        ],
        [info('s', 'float32', [3]), info('ys', 'float32', null), info('abs', 'float32', null)],
      ),
      11,
    );
    const { diffs } = await compareWithOrt(bytes, {
      s0: f32(randoms(3, 5), [3]),
      a: f32(randoms(12, 6), [4, 3]),
      b: f32(randoms(12, 7), bAxis1 ? [3, 4] : [4, 3]),
      k: f32([1, -2, 3], [3]),
    });
    expect(Math.max(...diffs)).toBeLessThan(1e-5);
  });
});

describe('untrusted models with subgraphs', () => {
  test('randomly corrupted If / Loop / Scan / LSTM models import or fail with a GraphError, never anything else', () => {
    const loopBody = graph(
      [node('Add', ['acc', 'x'], ['acc_out']), node('Identity', ['c'], ['c_out'])],
      [info('i', 'int64', []), info('c', 'bool', []), info('acc', 'float32', [2])],
      [info('c_out', 'bool', []), info('acc_out', 'float32', [2])],
    );
    const branch = (op: string, out: string): onnx.IGraphProto =>
      graph([node(op, ['x'], [out])], [], [info(out, 'float32', [2])]);
    const scanBody = graph(
      [node('Add', ['s', 'r'], ['s2'])],
      [info('s', 'float32', [2]), info('r', 'float32', [2])],
      [info('s2', 'float32', [2]), info('s2', 'float32', [2])],
    );
    const rng = new Rng(17);
    const bytes = model(
      graph(
        [
          node('If', ['p'], ['y'], {
            then_branch: { graph: branch('Neg', 't') },
            else_branch: { graph: branch('Exp', 'e') },
          }),
          node('Loop', ['M', '', 'y'], ['z'], { body: { graph: loopBody } }),
          node('Scan', ['z', 'xs'], ['s', 'ys'], { body: { graph: scanBody }, num_scan_inputs: { int: 1 } }),
          node('LSTM', ['X', 'W', 'R'], ['Y'], { hidden_size: { int: 2 } }),
        ],
        [
          info('p', 'bool', []),
          info('x', 'float32', [2]),
          info('xs', 'float32', [3, 2]),
          info('X', 'float32', [3, 1, 2]),
        ],
        [info('s', 'float32', [2]), info('ys', 'float32', null), info('Y', 'float32', null)],
        [
          int64('M', [3], []),
          init('W', new NDArray(Float32Array.from(randoms(16, 8)), [1, 8, 2])),
          init('R', new NDArray(Float32Array.from(randoms(16, 9)), [1, 8, 2])),
        ],
      ),
    );
    expect(importOnnx(bytes).outputs).toHaveLength(3);
    let rejected = 0;
    for (let trial = 0; trial < 300; trial++) {
      const copy = bytes.slice();
      for (let k = rng.int(1, 4); k > 0; k--) copy[rng.int(0, copy.length - 1)] = rng.int(0, 255);
      try {
        importOnnx(copy, { limits: { maxElements: 2 ** 20 } });
      } catch (error) {
        expect(error).toBeInstanceOf(GraphError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });
});
