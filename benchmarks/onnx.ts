/**
 * ONNX models for the ONNX Runtime contender. lazygrad's own `exportOnnx` (src/interop, issue 6) is used when the
 * public API has it and it exports the workload's graph; until then this small builder writes the same
 * computation with the official ONNX protobuf schema (`onnx-proto`), so ORT still has a model to run.
 */
import { onnx } from 'onnx-proto';
import * as lazygrad from '../src';
import { Graph, Tensor } from '../src';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
/** onnx-proto bundles ONNX 1.10 (IR version 8); opset 15 is its newest and ORT runs it. */
const OPSET = 15;

/** Builds a single-graph ONNX model node by node; every value is float32. */
export class OnnxBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private count = 0;

  /** A graph input fed at run time. */
  input(name: string, dims: readonly number[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** A constant stored in the model. */
  constant(values: Float32Array | number, dims: readonly number[] = []): string {
    const data = typeof values === 'number' ? new Float32Array([values]) : values;
    const name = `c${this.initializers.length}`;
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims: [...dims], dataType: FLOAT, rawData: raw });
    return name;
  }

  /** One node; returns its output's name. */
  node(opType: string, inputs: readonly string[]): string {
    const output = `t${this.count++}`;
    this.nodes.push({ opType, input: [...inputs], output: [output], name: output });
    return output;
  }

  /** Marks a value as a graph output under `name` (an Identity node renames it). */
  output(value: string, name: string, dims: readonly number[]): void {
    this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `${name}_out` });
    this.outputs.push(valueInfo(name, dims));
  }

  /** The model's bytes. */
  build(): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: onnx.Version.IR_VERSION,
      producerName: 'lazygrad-benchmarks',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: 'benchmark',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: readonly number[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

/** The shape of src/interop's exporter as issue 6 specifies it. */
type ExportOnnx = (
  graph: Graph,
  options: { inputs: readonly Tensor[]; outputs: readonly Tensor[]; opset?: number },
) => Uint8Array;

/** lazygrad's exporter when the public API has one (looked up at run time: src/interop may not exist yet). */
export function lazygradExporter(): ExportOnnx | null {
  const candidate = (lazygrad as unknown as Record<string, unknown>)['exportOnnx'];
  return typeof candidate === 'function' ? (candidate as ExportOnnx) : null;
}

/** Where an ORT model came from, reported next to its figures. */
export type ModelSource = 'lazygrad exportOnnx' | 'benchmarks/onnx.ts (exportOnnx unavailable)';

/**
 * The models to try for a lazygrad graph, in order: lazygrad's export when the public API has one and it maps the
 * graph, then `fallback()`. The ORT contender uses the first one ORT loads; its numbers are checked against
 * lazygrad's like any contender's.
 */
export function modelCandidates(
  graph: Graph,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  fallback: () => Uint8Array,
): { bytes: Uint8Array; source: ModelSource }[] {
  const candidates: { bytes: Uint8Array; source: ModelSource }[] = [];
  const exporter = lazygradExporter();
  if (exporter !== null) {
    try {
      candidates.push({ bytes: exporter(graph, { inputs, outputs, opset: 17 }), source: 'lazygrad exportOnnx' });
    } catch {
      // An exporter that cannot map this graph yet: the fallback runs, and the report says which model ran.
    }
  }
  candidates.push({ bytes: fallback(), source: 'benchmarks/onnx.ts (exportOnnx unavailable)' });
  return candidates;
}
