/**
 * canonicalJSON writes its string as it goes and sorts only the keys out of order; the text must be exactly that of
 * the plain definition (every object's keys sorted, lists and objects joined from their parts), which every attrs key
 * and the text IR depend on.
 */
import fc from 'fast-check';
import { AttrValue, canonicalJSON } from '../src/graph';

/** The plain definition. */
function reference(value: AttrValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => reference(v as AttrValue)).join(',')}]`;
  const record = value as { readonly [key: string]: AttrValue };
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(record[k])}`).join(',')}}`;
}

describe('canonicalJSON', () => {
  test('the text of the plain definition, on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJSON(value as AttrValue)).toBe(reference(value as AttrValue));
      }),
      { numRuns: 2000 },
    );
  });

  test('keys out of order, numeric keys, special numbers, holes and undefined as the plain definition has them', () => {
    const key = fc.oneof(fc.constantFrom('a', 'b', 'B', '10', '9', '', 'é', '$number'), fc.string());
    const leaf = fc.oneof(
      fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, null, true, undefined),
      fc.double(),
      fc.string(),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, tie('list'), tie('record')),
      list: fc.sparseArray(tie('value'), { maxLength: 5 }),
      record: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    }));
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJSON(v as AttrValue)).toBe(reference(v as AttrValue));
      }),
      { numRuns: 2000 },
    );
    expect(canonicalJSON({ b: [1, { d: 2, c: [3] }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":[3],"d":2}]}');
  });
});
