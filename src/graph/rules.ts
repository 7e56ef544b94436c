/**
 * What a graph may hold, as one rule each for names, shapes and attrs. `Graph.addNode` applies them to every node
 * it adds (placeholders, constants, variables, and every op's inferred shape), and the JSON loader applies the same
 * functions to a file's fields, so whatever can be built can be saved and loaded, and what a loader refuses cannot
 * be built. Also here: how names are escaped wherever they are printed.
 */
/** The longest node name, scopes included. */
export const MAX_NAME_LENGTH = 4096;
/** The highest rank of any shape. */
export const MAX_RANK = 64;
/** Attribute values nest at most this deep (a fused step's argument sits at depth 3; each level of control flow nested in a region adds 4). */
export const MAX_ATTR_DEPTH = 64;

/** What is wrong with a node's full name, or null: a non-empty string of at most MAX_NAME_LENGTH characters. */
export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `must be a string, got ${typeof name}`;
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) {
    return `has ${name.length} characters; a name (with its scopes) has at most ${MAX_NAME_LENGTH}`;
  }
  return null;
}

/**
 * What is wrong with a static shape, or null: a list of at most `maxRank` (≤ MAX_RANK) dims, each a safe integer
 * ≥ 0 (below 2^53, so every dim and file reader sees the same number) or null for a dim known only when fed.
 */
export function shapeProblem(shape: unknown, maxRank: number = MAX_RANK): string | null {
  if (!Array.isArray(shape)) return 'must be a list of dims (non-negative integers, or null for unknown)';
  const limit = Math.min(maxRank, MAX_RANK);
  if (shape.length > limit) return `has rank ${shape.length}; the rank is at most ${limit}`;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (d !== null && !(Number.isSafeInteger(d) && (d as number) >= 0)) {
      return `dim ${i} is ${formatDim(d)}; a dim is an integer from 0 to 2^53 − 1, or null when unknown`;
    }
  }
  return null;
}

function formatDim(d: unknown): string {
  if (typeof d === 'number') return Number.isInteger(d) && Math.abs(d) < 1e21 ? BigInt(d).toString() : String(d);
  return typeof d === 'string' ? JSON.stringify(d.slice(0, 40)) : String(d);
}

/** Keys a loader drops (they would reach an object's prototype machinery), so no attr may hold them. */
export function isReservedKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

/** An attr that breaks the rule: the path to the value (`attrs.axes[2]`) and what is wrong. */
export interface AttrsProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * What is wrong with a node's attrs as plain JSON, or null: values are null, booleans, strings, numbers (NaN, ±Inf
 * and −0 included: files name them), lists and plain objects, nested at most MAX_ATTR_DEPTH levels; no key a
 * loader drops (`__proto__`, `constructor`, `prototype`), and no object of the single key `$number`, which files
 * reserve for special numbers. The op's own schema (ops/attrs.ts) says which attrs it reads and their kinds.
 */
export function attrsProblem(attrs: { readonly [key: string]: unknown }): AttrsProblem | null {
  // Attrs frozen by freezeAttrs cannot change: checked once (the fused nodes of one structure share one object).
  const frozen = isFrozenAttrs(attrs);
  if (frozen && checked.has(attrs)) return null;
  const problem = attrsProblemOf(attrs);
  if (frozen && problem === null) checked.add(attrs);
  return problem;
}

/** The objects freezeAttrs froze, with all they hold; those of them attrsProblem found fine. */
const deepFrozen = new WeakSet<object>();
const checked = new WeakSet<object>();

/**
 * Freezes `attrs` and every list and object in it (a loop, no recursion), so that what is computed from their
 * content (attrsProblem, canonicalJSON, an op's inference) can be kept per object. For attrs many nodes share.
 */
export function freezeAttrs<T extends object>(attrs: T): T {
  const stack: unknown[] = [attrs];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    for (const key of Object.keys(value)) stack.push((value as { [key: string]: unknown })[key]);
    Object.freeze(value);
    // Each list and object in it is frozen with all it holds too.
    deepFrozen.add(value);
  }
  return attrs;
}

/** Whether freezeAttrs froze `value`, or froze attrs holding it (so nothing in it can change). */
export function isFrozenAttrs(value: object): boolean {
  return Object.isFrozen(value) && deepFrozen.has(value);
}

function attrsProblemOf(attrs: { readonly [key: string]: unknown }): AttrsProblem | null {
  if (!isPlainRecord(attrs)) return { path: 'attrs', message: 'must be a plain object' };
  // An explicit stack: a wide value (a fused node's million steps) costs a loop, never stack frames.
  const stack: { value: unknown; path: string; depth: number }[] = [];
  for (const key of Object.keys(attrs)) {
    if (isReservedKey(key))
      return { path: `attrs.${key}`, message: 'is a key files drop; name the attribute otherwise' };
    stack.push({ value: attrs[key], path: `attrs.${key}`, depth: 1 });
  }
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number };
    if (depth > MAX_ATTR_DEPTH) return { path, message: `nests deeper than ${MAX_ATTR_DEPTH} levels` };
    if (value === null || typeof value === 'boolean' || typeof value === 'string' || typeof value === 'number') {
      continue;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return { path: `${path}[${i}]`, message: 'is a hole; lists hold JSON values' };
        stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      }
      continue;
    }
    if (!isPlainRecord(value)) {
      return {
        path,
        message: `is ${describe(value)}, which is not JSON (null, boolean, number, string, list, object)`,
      };
    }
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$number') {
      return { path, message: 'is an object of the single key $number, which files reserve for special numbers' };
    }
    for (const key of keys) {
      if (isReservedKey(key)) return { path: `${path}.${key}`, message: 'is a key files drop; use another key' };
      stack.push({ value: (value as { [key: string]: unknown })[key], path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return null;
}

function isPlainRecord(value: unknown): value is { readonly [key: string]: unknown } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' && value !== null) return `a ${value.constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}

// ---- printing names ------------------------------------------------------------------------------------------

/** Names printed as they are: what the engine's own names use (`layer1/matMul_2`, ONNX's `input:0`, `a-b.c`). */
const PLAIN_NAME = /^[A-Za-z0-9_./:@+\-[\]]+$/;

/**
 * Characters that break or disguise a line: C0 and C1 controls, line and paragraph separators, bidirectional
 * overrides and zero-width characters. (JSON.stringify escapes only the C0 controls among them.)
 */
export const UNSAFE_CHARACTERS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * A name as every printer shows it (the text IR, `formatGraph`, `toDot`/`renderSvg`, `explain`, pass reports, error
 * messages): as it is when it holds only letters, digits and `_ . / : @ + - [ ]`, otherwise JSON-quoted with every
 * control, separator and invisible character escaped (`"a\nb"`), so no name can forge a line or hide in one.
 *
 * @example escapeName('layer1/add') // layer1/add;  escapeName('x\n%9 = …') // "x\n%9 = …"
 */
export function escapeName(name: string): string {
  if (PLAIN_NAME.test(name)) return name;
  return escapeText(JSON.stringify(String(name)));
}

/** A name inside an error message: `'layer1/add'`, or the quoted form of escapeName for any other name. */
export function quoteName(name: string): string {
  const escaped = escapeName(name);
  return escaped === name ? `'${name}'` : escaped;
}

/**
 * Text already free of raw line breaks (JSON, as attrs print) with the characters JSON leaves alone but that still
 * break or hide a line escaped as `\uXXXX`.
 */
export function escapeText(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
