import { allOps, checkRecords, isLeafOp, OP_FAMILIES } from '../src';

describe('the op table', () => {
  test('every record is complete (a kernel for every non-leaf op)', () => {
    expect(checkRecords()).toEqual([]);
  });

  test('every op appears in exactly one family', () => {
    const names = Object.values(OP_FAMILIES).flatMap((records) => records.map((r) => r.name));
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(allOps().length);
  });

  test('leaves are placeholder, constant and variable', () => {
    expect(OP_FAMILIES.leaf.map((r) => r.name).every(isLeafOp)).toBe(true);
  });
});
