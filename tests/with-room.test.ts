import { withRoom } from '../src/graph/graph';

describe('withRoom (typed arrays that grow as nodes are added)', () => {
  test('the array itself while it has the entry; else a copy twice as long, or long enough, its entries kept', () => {
    const a = new Int32Array([5, 6, 7, 8]);
    expect(withRoom(a, 3)).toBe(a);
    const twice = withRoom(a, 4);
    expect(twice).toBeInstanceOf(Int32Array);
    expect(Array.from(twice)).toEqual([5, 6, 7, 8, 0, 0, 0, 0]);
    expect(withRoom(a, 20).length).toBe(21);
  });

  test('new entries take the fill, the kind of array is kept', () => {
    const flags = new Uint8Array([1, 2]);
    const grown = withRoom(flags, 2);
    expect(grown).toBeInstanceOf(Uint8Array);
    expect(Array.from(grown)).toEqual([1, 2, 0, 0]);
    expect(Array.from(withRoom(new Int32Array([3]), 2, -1))).toEqual([3, -1, -1]);
  });
});
