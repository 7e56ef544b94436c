/**
 * Numbers and node attributes as JSON values: plain JSON, with the numbers JSON cannot hold (NaN, ±Infinity, −0)
 * written by name (`{"$number": "NaN"}` inside attrs). Used by the JSON format and by the annotations of ONNX
 * models written by lazygrad; the attribute types each op expects are its record's schema (ops/attrs.ts), which
 * the loaders check through rebuild.ts.
 */
import { Attrs, AttrValue, isReservedKey, MAX_ATTR_DEPTH } from '../graph';

export { MAX_ATTR_DEPTH };

/** The numbers JSON cannot write, by their names in files. */
const SPECIAL_NUMBERS: { readonly [name: string]: number } = {
  NaN: NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  '-0': -0,
};

/** A JSON value as files hold it (no undefined, no functions, no non-finite numbers). */
export type JSONValue = null | boolean | number | string | readonly JSONValue[] | { readonly [key: string]: JSONValue };

/**
 * Keys that would reach an object's prototype machinery: ignored wherever a file has them (and so refused in the
 * attrs of any node built, graph/rules.ts).
 */
export function isIgnoredKey(key: string): boolean {
  return isReservedKey(key);
}

/** A number as a file element: itself, or the name of a number JSON cannot hold. */
export function encodeNumber(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (Object.is(value, -0)) return '-0';
  return value;
}

/** The number a file element stands for, or undefined when it is neither a number nor a special name. */
export function decodeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(SPECIAL_NUMBERS, value)) {
    return SPECIAL_NUMBERS[value];
  }
  return undefined;
}

/** Attrs as JSON: special numbers become `{"$number": name}`. */
export function encodeAttrs(attrs: Attrs): { [key: string]: JSONValue } {
  const out: { [key: string]: JSONValue } = {};
  for (const key of Object.keys(attrs)) out[key] = encodeAttr(attrs[key], 0);
  return out;
}

function encodeAttr(value: AttrValue, depth: number): JSONValue {
  if (depth > MAX_ATTR_DEPTH) throw new Error(`attribute nesting deeper than ${MAX_ATTR_DEPTH}`);
  if (typeof value === 'number') {
    const encoded = encodeNumber(value);
    return typeof encoded === 'number' ? encoded : { $number: encoded };
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: AttrValue) => encodeAttr(v, depth + 1));
  const record = value as { readonly [key: string]: AttrValue };
  const out: { [key: string]: JSONValue } = {};
  for (const key of Object.keys(record)) out[key] = encodeAttr(record[key], depth + 1);
  return out;
}

/** A problem found in a file's attrs: the path to the value and what is wrong. */
export class AttrProblem {
  constructor(
    readonly path: string,
    readonly message: string,
  ) {}
}

/**
 * Attrs from a file: a fresh plain-JSON copy with special numbers decoded and prototype keys dropped, or the
 * first problem found. Bounded recursion: at most MAX_ATTR_DEPTH levels.
 */
export function decodeAttrs(raw: unknown): Attrs | AttrProblem {
  if (!isPlainObject(raw)) return new AttrProblem('attrs', 'must be an object');
  const out: { [key: string]: AttrValue } = {};
  for (const key of Object.keys(raw)) {
    if (isIgnoredKey(key)) continue;
    const value = decodeAttr(raw[key], `attrs.${key}`, 1);
    if (value instanceof AttrProblem) return value;
    out[key] = value;
  }
  return out;
}

function decodeAttr(raw: unknown, path: string, depth: number): AttrValue | AttrProblem {
  if (depth > MAX_ATTR_DEPTH) return new AttrProblem(path, `nests deeper than ${MAX_ATTR_DEPTH} levels`);
  if (raw === null || typeof raw === 'boolean' || typeof raw === 'string') return raw;
  if (typeof raw === 'number') {
    return Number.isFinite(raw) ? raw : new AttrProblem(path, 'is not a finite number');
  }
  if (Array.isArray(raw)) {
    const items: AttrValue[] = [];
    for (let i = 0; i < raw.length; i++) {
      const item = decodeAttr(raw[i], `${path}[${i}]`, depth + 1);
      if (item instanceof AttrProblem) return item;
      items.push(item);
    }
    return items;
  }
  if (isPlainObject(raw)) {
    const keys = Object.keys(raw).filter((k) => !isIgnoredKey(k));
    if (keys.length === 1 && keys[0] === '$number') {
      const value = decodeNumber(raw.$number);
      if (value === undefined || typeof raw.$number !== 'string') {
        return new AttrProblem(path, `{"$number": …} must name NaN, Infinity, -Infinity or -0`);
      }
      return value;
    }
    const out: { [key: string]: AttrValue } = {};
    for (const key of keys) {
      const value = decodeAttr(raw[key], `${path}.${key}`, depth + 1);
      if (value instanceof AttrProblem) return value;
      out[key] = value;
    }
    return out;
  }
  return new AttrProblem(path, `has type ${typeof raw}, which is not JSON`);
}

/** An object from JSON.parse (or a literal): not an array, not null. */
export function isPlainObject(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
