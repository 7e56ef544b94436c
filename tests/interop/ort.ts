/** Running exported models in ONNX Runtime (onnxruntime-node) and comparing them with Session.run. */
import * as ort from 'onnxruntime-node';
import { DType, NDArray } from '../../src';

const ORT_TYPES: { readonly [dtype in DType]: 'float32' | 'float64' | 'int32' | 'bool' } = {
  float32: 'float32',
  float64: 'float64',
  int32: 'int32',
  bool: 'bool',
};

/** Runs a model in ONNX Runtime with feeds by input name; returns the outputs as NDArrays by output name. */
export async function runOrt(bytes: Uint8Array, feeds: ReadonlyMap<string, NDArray>): Promise<Map<string, NDArray>> {
  const session = await ort.InferenceSession.create(bytes);
  const inputs: Record<string, ort.Tensor> = {};
  for (const [name, value] of feeds)
    inputs[name] = new ort.Tensor(ORT_TYPES[value.dtype], value.data, [...value.shape]);
  const results = await session.run(inputs);
  const out = new Map<string, NDArray>();
  for (const name of session.outputNames) {
    const tensor = results[name];
    const dims = tensor.dims.map(Number);
    const data = tensor.data;
    let array: NDArray;
    if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) {
      array = new NDArray(data.slice(), dims);
    } else if (data instanceof Uint8Array && tensor.type === 'bool') {
      array = new NDArray(data.slice(), dims, 'bool');
    } else if (data instanceof BigInt64Array) {
      array = new NDArray(Int32Array.from(data, Number), dims);
    } else {
      throw new Error(`runOrt: output '${name}' has type ${tensor.type}`);
    }
    out.set(name, array);
  }
  await session.release();
  return out;
}
