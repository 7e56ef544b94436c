/** Hand-built ONNX models for the control-flow and recurrent tests: nodes, graphs (subgraphs too) and models. */
import { importOnnx, NDArray, Session, Tensor } from '../../src';
import { attributeProto, encodeModel, onnx, OnnxAttr, tensorProto } from '../../src/interop/onnx/proto';

/** ONNX element types by name. */
export const ELEM = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 } as const;
export type Elem = keyof typeof ELEM;

export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: { readonly [name: string]: OnnxAttr } = {},
): onnx.INodeProto {
  return {
    opType,
    name: `${opType}_${outputs.find((o) => o !== '') ?? ''}`,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.keys(attrs).map((k) => attributeProto(k, attrs[k])),
  };
}

/** A value's declaration: name, element type and shape (null or a string = symbolic dim). */
export function info(
  name: string,
  elem: Elem,
  shape: readonly (number | string | null)[] | null,
): onnx.IValueInfoProto {
  const tensorType: onnx.ITypeProtoTensor = { elemType: ELEM[elem] };
  if (shape !== null) {
    tensorType.shape = {
      dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
    };
  }
  return { name, type: { tensorType } };
}

export function graph(
  nodes: readonly onnx.INodeProto[],
  inputs: readonly onnx.IValueInfoProto[],
  outputs: readonly onnx.IValueInfoProto[],
  initializers: readonly onnx.ITensorProto[] = [],
  name = 'g',
): onnx.IGraphProto {
  return { name, node: [...nodes], input: [...inputs], output: [...outputs], initializer: [...initializers] };
}

export function model(g: onnx.IGraphProto, opset = 17): Uint8Array {
  const proto: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'test',
    opsetImport: [{ domain: '', version: opset }],
    graph: g,
  };
  return encodeModel(proto);
}

/** An initializer (or Constant value) from an NDArray. */
export function init(name: string, value: NDArray): onnx.ITensorProto {
  return tensorProto(name, value);
}

/** An int64 tensor. */
export function int64(
  name: string,
  values: readonly number[],
  dims: readonly number[] = [values.length],
): onnx.ITensorProto {
  return { name, dataType: ELEM.int64, dims: [...dims], int64Data: [...values] };
}

export function boolTensor(
  name: string,
  values: readonly boolean[],
  dims: readonly number[] = [values.length],
): onnx.ITensorProto {
  return { name, dataType: ELEM.bool, dims: [...dims], int32Data: values.map((v) => (v ? 1 : 0)) };
}

/** A feed for both runtimes: int64 inputs go to ONNX Runtime as int64 and to lazygrad as int32. */
export interface Feed {
  readonly data: readonly number[];
  readonly shape: readonly number[];
  readonly type: 'float32' | 'float64' | 'int64' | 'bool';
}

/**
 * Runs a model in ONNX Runtime and, imported, in a lazygrad Session; gives each output's largest difference (and
 * checks that the shapes agree).
 */
export async function compareWithOrt(
  bytes: Uint8Array,
  feeds: { readonly [name: string]: Feed },
): Promise<{ diffs: number[]; lazygrad: NDArray[] }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const ortFeeds: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) {
    const data =
      f.type === 'int64'
        ? BigInt64Array.from(f.data, (v) => BigInt(v))
        : f.type === 'bool'
          ? Uint8Array.from(f.data)
          : f.type === 'float32'
            ? Float32Array.from(f.data)
            : Float64Array.from(f.data);
    ortFeeds[name] = new ort.Tensor(f.type, data, [...f.shape]);
  }
  const results = await session.run(ortFeeds);
  const names = session.outputNames;
  await session.release();
  const { graph: g, inputs, outputs, outputNames } = importOnnx(bytes);
  const lgFeeds = new Map<Tensor, NDArray>();
  for (const [name, f] of Object.entries(feeds)) {
    const data =
      f.type === 'int64'
        ? Int32Array.from(f.data)
        : f.type === 'bool'
          ? Uint8Array.from(f.data)
          : f.type === 'float32'
            ? Float32Array.from(f.data)
            : Float64Array.from(f.data);
    lgFeeds.set(inputs.get(name) as Tensor, new NDArray(data, [...f.shape], f.type === 'int64' ? 'int32' : f.type));
  }
  const got = new Session(g).run(outputs, lgFeeds) as NDArray[];
  const diffs = names.map((name, k) => {
    expect(outputNames[k]).toBe(name);
    const r = results[name];
    expect(got[k].shape).toEqual(r.dims.map(Number));
    const data = r.data as ArrayLike<number | bigint>;
    let m = 0;
    for (let i = 0; i < data.length; i++) m = Math.max(m, Math.abs(Number(data[i]) - got[k].data[i]));
    return m;
  });
  return { diffs, lazygrad: got };
}
