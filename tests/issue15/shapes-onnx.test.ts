/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/** Issue 15, item 2 in ONNX: an exported ensureShapeLike (a gradY's check) still refuses another shape. */
import { ensureShapeLike, exportOnnx, Graph, NDArray } from '../../src';
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
