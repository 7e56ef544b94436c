/**
 * Fused elementwise kernels: one loop computing a whole group of elementwise ops, each element once, with no
 * intermediate arrays. The loop's source is assembled from the ops' own expression templates (engine-owned
 * strings such as `Math.exp($0)`), argument references that are validated integers, and numeric literals
 * printed by the engine — never from text that came from a user or a file.
 */
import type { Buf, TypedArray } from './types';
import { broadcastStrides, coalesce, sizeOf } from './util';

/** An argument of a fused step: an input of the fused node, an earlier step, or a literal number. */
export type FusedArg = { readonly input: number } | { readonly step: number } | { readonly value: number };

/** One op of the group: its template (from the op record) and its arguments. */
export interface FusedStep {
  readonly template: string;
  readonly args: readonly FusedArg[];
}

type FusedLoop = (
  inputs: readonly TypedArray[],
  out: TypedArray,
  n: number,
  shape: readonly number[],
  strides: readonly (readonly number[])[],
) => void;

const TEMPLATE = /^[A-Za-z0-9_$.,()+\-*/%<>=!?:&|^~ ]*$/;

function literal(value: number): string {
  if (typeof value !== 'number') throw new Error('fused kernel: a literal must be a number');
  if (Number.isNaN(value)) return 'NaN';
  if (Object.is(value, -0)) return '(-0)';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '(-Infinity)';
  return `(${String(value)})`;
}

/** The expression for each step, with `$k` replaced by the argument's expression. */
function stepExpressions(steps: readonly FusedStep[], inputCount: number, inputName: (k: number) => string): string[] {
  return steps.map((step, j) => {
    if (!TEMPLATE.test(step.template)) throw new Error(`fused kernel: step ${j} has a template of unexpected form`);
    const args = step.args.map((arg) => {
      if ('input' in arg) {
        if (!Number.isInteger(arg.input) || arg.input < 0 || arg.input >= inputCount) {
          throw new Error(`fused kernel: step ${j} reads input ${String(arg.input)} of ${inputCount}`);
        }
        return inputName(arg.input);
      }
      if ('step' in arg) {
        if (!Number.isInteger(arg.step) || arg.step < 0 || arg.step >= j) {
          throw new Error(`fused kernel: step ${j} reads step ${String(arg.step)}, which is not an earlier step`);
        }
        return `t${arg.step}`;
      }
      return literal(arg.value);
    });
    return step.template.replace(/\$(\d+)/g, (_m, k: string) => {
      const index = Number(k);
      if (index >= args.length)
        throw new Error(`fused kernel: step ${j} template uses $${index}, has ${args.length} args`);
      return args[index];
    });
  });
}

function body(expressions: readonly string[], store: string): string {
  const temps = expressions.map((e, j) => `const t${j} = ${e};`).join(' ');
  return `${temps} ${store} = t${expressions.length - 1};`;
}

/**
 * The loop source: a flat loop when every input is either the output's shape or a single value, else an
 * odometer over the coalesced output shape with one running offset per input.
 */
function loopSource(steps: readonly FusedStep[], inputCount: number, flat: boolean): string {
  const lines = ['return function fusedLoop(inputs, out, n, shape, strides) {'];
  for (let k = 0; k < inputCount; k++) lines.push(`const d${k} = inputs[${k}];`);
  if (flat) {
    // strides[k][0] is 1 for a full input and 0 for a single value.
    for (let k = 0; k < inputCount; k++) lines.push(`const s${k} = strides[${k}][0];`);
    const exprs = stepExpressions(steps, inputCount, (k) => `d${k}[i * s${k}]`);
    lines.push(`for (let i = 0; i < n; i++) { ${body(exprs, 'out[i]')} }`);
  } else {
    lines.push('const r = shape.length; const inner = shape[r - 1]; const outer = n / inner;');
    lines.push('const idx = new Int32Array(r);');
    for (let k = 0; k < inputCount; k++)
      lines.push(`const st${k} = strides[${k}]; const in${k} = st${k}[r - 1]; let o${k} = 0;`);
    const exprs = stepExpressions(steps, inputCount, (k) => `d${k}[p${k}]`);
    const starts = Array.from({ length: inputCount }, (_, k) => `let p${k} = o${k};`).join(' ');
    const advance = Array.from({ length: inputCount }, (_, k) => `p${k} += in${k};`).join(' ');
    const carry = Array.from({ length: inputCount }, (_, k) => `o${k} += st${k}[d];`).join(' ');
    const reset = Array.from({ length: inputCount }, (_, k) => `o${k} -= st${k}[d] * shape[d];`).join(' ');
    lines.push('let o = 0;');
    lines.push(`for (let t = 0; t < outer; t++) { ${starts}`);
    lines.push(`  for (let j = 0; j < inner; j++) { ${body(exprs, 'out[o++]')} ${advance} }`);
    lines.push(`  for (let d = r - 2; d >= 0; d--) { ${carry} if (++idx[d] < shape[d]) break; ${reset} idx[d] = 0; }`);
    lines.push('}');
  }
  lines.push('};');
  return lines.join('\n');
}

const cache = new Map<string, FusedLoop>();

/** Number of distinct loops compiled so far (each group structure is compiled once and cached). */
export function fusedCacheSize(): number {
  return cache.size;
}

function loopFor(steps: readonly FusedStep[], inputCount: number, flat: boolean): FusedLoop {
  const key = `${flat ? 'flat' : 'strided'}|${inputCount}|${JSON.stringify(steps)}`;
  let loop = cache.get(key);
  if (loop === undefined) {
    loop = new Function(`'use strict';\n${loopSource(steps, inputCount, flat)}`)() as FusedLoop;
    cache.set(key, loop);
  }
  return loop;
}

/**
 * A kernel for a fused group: inputs broadcast NumPy-style to out's shape. The loop is compiled on first use for
 * each (structure, flat or strided) and cached.
 */
export function fusedKernel(steps: readonly FusedStep[]): (inputs: readonly Buf[], out: Buf) => void {
  if (steps.length === 0) throw new Error('fused kernel: no steps');
  return (inputs, out) => {
    const n = sizeOf(out.shape);
    if (n === 0) return;
    const shape = out.shape;
    const flat = inputs.every((x) => x.data.length === 1 || x.data.length === n);
    if (flat) {
      const strides = inputs.map((x) => [x.data.length === 1 && n !== 1 ? 0 : 1]);
      loopFor(steps, inputs.length, true)(
        inputs.map((x) => x.data),
        out.data,
        n,
        [n],
        strides,
      );
      return;
    }
    const plan = coalesce(
      shape,
      inputs.map((x) => broadcastStrides(x.shape, shape)),
    );
    loopFor(steps, inputs.length, false)(
      inputs.map((x) => x.data),
      out.data,
      n,
      plan.shape,
      plan.strides,
    );
  };
}
