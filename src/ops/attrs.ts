/**
 * Op attribute schemas: each op record lists its attributes and their kinds (`{ axis: 'int', keepDims: 'bool?' }`),
 * the TypeScript type of its attrs is derived from that list, and `addOp` checks every node's attrs against it
 * once, so rules, kernels, passes and the file formats read typed attributes with no casts.
 */
import { AttrValue, Attrs, Dim, DType, isDType, isFrozenAttrs, StoredNode, StoredRegion } from '../graph';
import type { FusedArg } from './kernels';

/** One step of a fused node's attrs: an op name (resolved to its template through the op table) and its args. */
export type FusedStepAttr = { readonly op: string; readonly args: readonly FusedArg[] };

/** One node of a region as stored in attrs: inputs are indices of earlier nodes of the same region. */
export type RegionNodeAttr = StoredNode;

/** A region as stored in attrs (the graph layer's StoredRegion): nodes in topological order, params, outputs. */
export type RegionAttr = StoredRegion;

/** The TypeScript type of each attribute kind. */
export interface AttrKinds {
  bool: boolean;
  /** A safe integer. */
  int: number;
  /** Any number, NaN and ±Infinity included. */
  number: number;
  dtype: DType;
  /** A list of integers (axes, a permutation, a target shape with -1…). */
  ints: readonly number[];
  /** A shape: non-negative integers, null for a dim known only at run time. */
  dims: readonly Dim[];
  /**
   * Slice bounds: integers, null where a mask says "from the start" or "to the end". Bounds are clamped to the dim,
   * so any integer is valid (ONNX's INT64 ends, as doubles, included).
   */
  bounds: readonly (number | null)[];
  /** [before, after] integer pairs, one per dim. */
  pairs: readonly (readonly [number, number])[];
  /** A random seed as tfjs takes it. */
  seed: number | string;
  string: string;
  /** A fused node's steps (see stepsProblem). */
  steps: readonly FusedStepAttr[];
  /** A control-flow node's subgraph (src/ops/region.ts). */
  region: RegionAttr;
  /** Several regions (a cond's branches). */
  regions: readonly RegionAttr[];
}

export type AttrKind = keyof AttrKinds;

/** An attribute's kind; a trailing `?` marks it optional. */
export type AttrSpec = AttrKind | `${AttrKind}?`;

/** The attributes of an op, by name. Attributes a node has beyond its schema are not checked (nor read). */
export type AttrSchema = { readonly [attr: string]: AttrSpec };

type KindOf<S> = S extends `${infer K extends AttrKind}?` ? K : S extends AttrKind ? S : never;
type RequiredKeys<S extends AttrSchema> = { [K in keyof S]: S[K] extends `${string}?` ? never : K }[keyof S];
type OptionalKeys<S extends AttrSchema> = Exclude<keyof S, RequiredKeys<S>>;

/** The attrs type a schema describes: `{ axis: 'int', keepDims: 'bool?' }` gives `{ axis: number; keepDims?: boolean }`. */
export type AttrsOf<S extends AttrSchema> = {
  readonly [K in RequiredKeys<S>]: AttrKinds[KindOf<S[K]>];
} & {
  readonly [K in OptionalKeys<S>]?: AttrKinds[KindOf<S[K]>];
} extends infer T
  ? { [K in keyof T]: T[K] }
  : never;

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

function isObject(value: unknown): value is { readonly [key: string]: AttrValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as an error message shows it: JSON, cut short. */
function shown(value: AttrValue): string {
  const text = JSON.stringify(value);
  return text.length <= 100 ? text : `${text.slice(0, 100)}…`;
}

/** What is wrong with `value` as an attribute of `kind` ("must be …, got …"), or null when it fits. */
function kindProblem(kind: AttrKind, value: AttrValue, inputCount: number): string | null {
  const problem = kindRule(kind, value, inputCount);
  if (problem === null) return null;
  if (kind === 'dtype' && typeof value === 'string') {
    return `names an unknown target dtype '${value.slice(0, 100)}'; valid: float32, float64, int32, bool`;
  }
  return `${problem}, got ${shown(value)}`;
}

/** The rule `value` breaks as an attribute of `kind` ("must be …"), or null when it fits. */
function kindRule(kind: AttrKind, value: AttrValue, inputCount: number): string | null {
  switch (kind) {
    case 'bool':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'int':
      return isInt(value) ? null : 'must be an integer';
    case 'number':
      return typeof value === 'number' ? null : 'must be a number';
    case 'string':
      return typeof value === 'string' ? null : 'must be a string';
    case 'dtype':
      return isDType(value) ? null : 'must be one of float32, float64, int32, bool';
    case 'ints':
      return Array.isArray(value) && value.every(isInt) ? null : 'must be a list of integers';
    case 'dims':
      return Array.isArray(value) && value.every((d) => d === null || (isInt(d) && d >= 0))
        ? null
        : 'must be a list of non-negative integers or null';
    case 'bounds':
      return Array.isArray(value) && value.every((d) => d === null || Number.isInteger(d))
        ? null
        : 'must be a list of integers or null';
    case 'pairs':
      return Array.isArray(value) && value.every((p) => Array.isArray(p) && p.length === 2 && p.every(isInt))
        ? null
        : 'must be a list of [before, after] integer pairs';
    case 'seed':
      return typeof value === 'string' || typeof value === 'number' ? null : 'must be a number or a string';
    case 'steps':
      return stepsProblem(value, inputCount);
    case 'region':
      return regionAttrProblem(value);
    case 'regions': {
      if (!Array.isArray(value) || value.length === 0) return 'must be a non-empty list of regions';
      for (const region of value as readonly AttrValue[]) {
        const problem = regionAttrProblem(region);
        if (problem !== null) return problem;
      }
      return null;
    }
  }
}

/**
 * The most steps one fused node may hold. The fusion pass makes groups of at most 48 ops; the cap keeps a file's
 * or a hand-built node's generated kernel to a size V8 compiles (a 1,000,000-step kernel overflows its parser).
 */
export const MAX_FUSED_STEPS = 4096;

/**
 * A fused node's steps: each `{op, args}` with args `{input: k}` (k < the node's input count), `{step: j}` (an
 * earlier step) or `{value: number}`. The fused record itself checks that each op is a fusible elementwise op, so
 * only engine templates ever reach generated code; this check keeps malformed args from reaching it at all.
 */
function stepsProblem(value: AttrValue, inputCount: number): string | null {
  // Steps frozen by freezeAttrs (the fused nodes of one structure share them) cannot change: checked once per count.
  const frozen = Array.isArray(value) && isFrozenAttrs(value);
  if (frozen && checkedSteps.get(value) === inputCount) return null;
  const problem = stepsProblemOf(value, inputCount);
  if (frozen && problem === null) checkedSteps.set(value, inputCount);
  return problem;
}

/** Frozen steps stepsProblem found fine, with the input count it checked them against. */
const checkedSteps = new WeakMap<object, number>();

function stepsProblemOf(value: AttrValue, inputCount: number): string | null {
  if (!Array.isArray(value) || value.length === 0) return 'must be a non-empty list of steps';
  if (value.length > MAX_FUSED_STEPS) {
    return `holds ${value.length} steps; a fused node holds at most ${MAX_FUSED_STEPS}`;
  }
  for (let j = 0; j < value.length; j++) {
    const step: AttrValue = value[j];
    if (!isObject(step) || typeof step.op !== 'string' || !Array.isArray(step.args)) {
      return `step ${j} must be {op: string, args: list}`;
    }
    if (Object.keys(step).some((k) => k !== 'op' && k !== 'args')) return `step ${j} has keys other than op and args`;
    const args: readonly AttrValue[] = step.args;
    for (const arg of args) {
      const keys = isObject(arg) ? Object.keys(arg) : [];
      const item = isObject(arg) ? arg : {};
      const { input, step: earlier } = item;
      const valid =
        keys.length === 1 &&
        ((keys[0] === 'input' && isInt(input) && input >= 0 && input < inputCount) ||
          (keys[0] === 'step' && isInt(earlier) && earlier >= 0 && earlier < j) ||
          (keys[0] === 'value' && typeof item.value === 'number'));
      if (!valid) return `step ${j} has an argument that is not {input: k}, {step: earlier j} or {value: number}`;
    }
  }
  return null;
}

/** A schema entry parsed once: the attribute, its kind and whether it may be absent. */
interface AttrCheck {
  readonly name: string;
  readonly kind: AttrKind;
  readonly optional: boolean;
}

const compiled = new WeakMap<AttrSchema, readonly AttrCheck[]>();

function checksOf(schema: AttrSchema): readonly AttrCheck[] {
  let checks = compiled.get(schema);
  if (checks === undefined) {
    checks = Object.keys(schema).map((name) => {
      const spec = schema[name];
      const optional = spec.endsWith('?');
      return { name, kind: (optional ? spec.slice(0, -1) : spec) as AttrKind, optional };
    });
    compiled.set(schema, checks);
  }
  return checks;
}

/** An attribute that does not fit its op's schema: its name, its kind and what is wrong ("is missing", "must be …"). */
export interface AttrProblem {
  readonly attr: string;
  readonly kind: AttrKind;
  readonly message: string;
}

/**
 * The first attribute of `attrs` that does not fit `schema`, or null. Runs once per added node, so it stays a loop
 * over a pre-parsed list.
 */
export function attrProblem(schema: AttrSchema, attrs: Attrs, inputCount: number): AttrProblem | null {
  const checks = checksOf(schema);
  for (let i = 0; i < checks.length; i++) {
    const { name, kind, optional } = checks[i];
    const value = Object.prototype.hasOwnProperty.call(attrs, name) ? attrs[name] : undefined;
    if (value === undefined) {
      if (!optional) return { attr: name, kind, message: `is missing; it ${kindRule(kind, null, inputCount)}` };
      continue;
    }
    const message = kindProblem(kind, value, inputCount);
    if (message !== null) return { attr: name, kind, message };
  }
  return null;
}

/** The attr form a region kind of attribute has, checked structurally (parseRegion checks the rest). */
export function regionAttrProblem(value: AttrValue): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'must be a region {params, outputs, nodes}';
  const record = value as { readonly [key: string]: AttrValue };
  const ints = (v: AttrValue): boolean => Array.isArray(v) && v.every((i) => Number.isSafeInteger(i));
  if (!ints(record.params) || !ints(record.outputs) || !Array.isArray(record.nodes)) {
    return 'must be a region {params: ints, outputs: ints, nodes: list}';
  }
  for (const node of record.nodes as readonly AttrValue[]) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return 'holds a node that is not an object';
    const n = node as { readonly [key: string]: AttrValue };
    if (typeof n.op !== 'string' || !ints(n.inputs) || typeof n.name !== 'string' || typeof n.dtype !== 'string') {
      return 'holds a node without op, inputs, name and dtype';
    }
    if (typeof n.attrs !== 'object' || n.attrs === null || Array.isArray(n.attrs) || !Array.isArray(n.shape)) {
      return 'holds a node without attrs and shape';
    }
  }
  return null;
}
