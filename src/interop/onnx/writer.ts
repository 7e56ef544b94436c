/**
 * Building an ONNX graph node by node: fresh value names, shared constants, and shapes computed at run time (a
 * dim that is unknown when exporting is read from a tensor's Shape in the exported graph).
 */
import { DType, NDArray, Shape } from '../../graph';
import { encodeNumber } from '../jsonvalues';
import { attributeProto, int64Proto, onnx, OnnxAttr, tensorProto } from './proto';

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** A dim of a shape the exported graph computes: known now, or an int64 [1] tensor holding it at run time. */
export type DimExpr = number | { readonly value: string };

export class OnnxWriter {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly cache = new Map<string, string>();
  /** The names taken in the whole model: a subgraph's writer shares its parent's (ONNX names are unique in a model). */
  private readonly names: { readonly taken: Set<string>; counter: number };

  constructor(
    readonly opset: number,
    parent?: OnnxWriter,
  ) {
    this.names = parent !== undefined ? parent.names : { taken: new Set(), counter: 0 };
  }

  private get taken(): Set<string> {
    return this.names.taken;
  }

  /** Marks a name as used (the lazygrad names of exported nodes are reserved before any helper is named). */
  reserve(name: string): void {
    this.taken.add(name);
  }

  isTaken(name: string): boolean {
    return this.taken.has(name);
  }

  /** A value name no other value has. */
  fresh(base: string): string {
    let name: string;
    do name = `${base}__${this.names.counter++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }

  /** Appends a node with one output (a fresh name unless given) and returns the output's name. */
  node(
    opType: string,
    inputs: readonly string[],
    attrs: { readonly [name: string]: OnnxAttr } = {},
    output?: string,
  ): string {
    const out = output ?? this.fresh(opType);
    this.nodes.push({
      opType,
      name: out,
      input: [...inputs],
      output: [out],
      attribute: Object.keys(attrs).map((key) => attributeProto(key, attrs[key])),
    });
    return out;
  }

  private cached(key: string, make: () => string): string {
    let name = this.cache.get(key);
    if (name === undefined) {
      name = make();
      this.cache.set(key, name);
    }
    return name;
  }

  /** A Constant holding an int64 vector (shapes, axes, starts…); shared between uses. */
  ints(values: readonly (number | bigint)[]): string {
    return this.cached(`ints:${values.join(',')}`, () => {
      const name = this.fresh('ints');
      return this.node('Constant', [], { value: { tensor: int64Proto('', values, [values.length]) } }, name);
    });
  }

  /** A Constant holding an int64 scalar. */
  scalarInt(value: number): string {
    return this.cached(`int:${value}`, () => {
      const name = this.fresh('int');
      return this.node('Constant', [], { value: { tensor: int64Proto('', [value], []) } }, name);
    });
  }

  /** A Constant holding a scalar of a lazygrad dtype (NaN, ±Infinity and −0 kept). */
  scalar(value: number, dtype: DType): string {
    return this.cached(`${dtype}:${String(encodeNumber(value))}`, () =>
      this.tensor(NDArray.from(value, dtype).clone()),
    );
  }

  /** A Constant node holding an array. */
  tensor(value: NDArray): string {
    const name = this.fresh('const');
    return this.node('Constant', [], { value: { tensor: tensorProto('', value) } }, name);
  }

  /** Shape(x), computed once per value. */
  shapeOf(x: string): string {
    return this.cached(`shape:${x}`, () => this.node('Shape', [x]));
  }

  /** Dim `axis` of x: the static size when known, else read from Shape(x) at run time. */
  dim(x: string, shape: Shape, axis: number): DimExpr {
    const d = shape[axis];
    if (d !== null) return d;
    return { value: this.cached(`dim:${x}:${axis}`, () => this.node('Gather', [this.shapeOf(x), this.ints([axis])])) };
  }

  /** The product of some dims (1 for none). */
  product(dims: readonly DimExpr[]): DimExpr {
    let known = 1;
    let dynamic: string | null = null;
    for (const d of dims) {
      if (typeof d === 'number') known *= d;
      else dynamic = dynamic === null ? d.value : this.node('Mul', [dynamic, d.value]);
    }
    if (dynamic === null) return known;
    return { value: known === 1 ? dynamic : this.node('Mul', [dynamic, this.ints([known])]) };
  }

  /** A 1-D int64 shape vector from dims: a Constant when all are known, else a Concat of the pieces. */
  vector(dims: readonly DimExpr[]): string {
    if (dims.every((d): d is number => typeof d === 'number')) return this.ints(dims);
    const pieces: string[] = [];
    let run: number[] = [];
    for (const d of dims) {
      if (typeof d === 'number') {
        run.push(d);
        continue;
      }
      if (run.length > 0) pieces.push(this.ints(run));
      run = [];
      pieces.push(d.value);
    }
    if (run.length > 0) pieces.push(this.ints(run));
    return pieces.length === 1 ? pieces[0] : this.node('Concat', pieces, { axis: { int: 0 } });
  }

  /** The shape of x as a vector: a Constant when fully known, else Shape(x). */
  shapeVector(x: string, shape: Shape): string {
    return shape.every((d) => d !== null) ? this.ints(shape as number[]) : this.shapeOf(x);
  }
}
