/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * Issue 15, items 2 and 3 in ONNX: an exported ensureShapeLike (a gradY's check) still refuses another shape, and
 * an unknown dim broadcast against 1 fails in ONNX Runtime when fed another size, as in Session.run (ONNX's Expand
 * alone would broadcast both ways and return a larger shape).
 */
import { broadcastLike, broadcastTo, ensureShapeLike, exportOnnx, Graph, NDArray } from '../../src';
import { runOrt } from '../interop/ort';

describe('ensureShapeLike exported to ONNX', () => {
  function model(): Uint8Array {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const like = g.placeholder('like', [null, 3]);
    return exportOnnx(g, { outputs: { y: ensureShapeLike(x, like) } });
  }
  const rows = (n: number): NDArray =>
    new NDArray(
      new Float32Array(n * 3).map((_, i) => i + 1),
      [n, 3],
    );

  test('passes x through when the fed shapes are equal', async () => {
    const out = await runOrt(
      model(),
      new Map([
        ['x', rows(2)],
        ['like', rows(2)],
      ]),
    );
    expect(Array.from((out.get('y') as NDArray).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test.each([
    ['x smaller', 1, 2],
    ['x larger', 2, 1],
  ])('fails in ONNX Runtime when the fed shapes differ (%s)', async (_label, xRows, likeRows) => {
    const feeds = new Map([
      ['x', rows(xRows)],
      ['like', rows(likeRows)],
    ]);
    await expect(runOrt(model(), feeds)).rejects.toThrow();
  });
});

describe('broadcastTo and broadcastLike of an unknown dim exported to ONNX', () => {
  const rows = (n: number): NDArray =>
    new NDArray(
      new Float32Array(n * 3).map((_, i) => i + 1),
      [n, 3],
    );

  test('broadcastTo([?, 3] to [1, 3]) runs fed one row and fails fed two', async () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const bytes = exportOnnx(g, { outputs: { y: broadcastTo(x, [1, 3]) } });
    const out = await runOrt(bytes, new Map([['x', rows(1)]]));
    expect(Array.from((out.get('y') as NDArray).data)).toEqual([1, 2, 3]);
    await expect(runOrt(bytes, new Map([['x', rows(2)]]))).rejects.toThrow();
  });

  test('broadcastLike of [?, 3] to a [?, 3] like: one row to two runs, two rows to one fails', async () => {
    const g = new Graph();
    const x = g.placeholder('x', [null, 3]);
    const like = g.placeholder('like', [null, 3]);
    const bytes = exportOnnx(g, { outputs: { y: broadcastLike(x, like) } });
    const out = await runOrt(
      bytes,
      new Map([
        ['x', rows(1)],
        ['like', rows(2)],
      ]),
    );
    expect(Array.from((out.get('y') as NDArray).data)).toEqual([1, 2, 3, 1, 2, 3]);
    const feeds = new Map([
      ['x', rows(2)],
      ['like', rows(1)],
    ]);
    await expect(runOrt(bytes, feeds)).rejects.toThrow();
  });
});
