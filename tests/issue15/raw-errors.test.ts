/**
 * Issue 15, item 10: what used to escape as a raw Error, RangeError or TypeError is a LazygradError subclass naming
 * the op and the value: a kernel failing while constant folding, generators and initializers asked for huge values,
 * checkpoints given something other than bytes, an ONNX ConstantOfShape of a negative dim.
 */
import { onnx } from 'onnx-proto';
import {
  CheckpointError,
  decodeSafetensors,
  evaluateConstant,
  fill,
  gather,
  Graph,
  GraphError,
  importOnnx,
  initializers,
  LazygradError,
  linspace,
  NDArray,
  ones,
  optimize,
  range,
  ResourceExhaustedError,
  RuntimeError,
  Session,
  ShapeError,
  zeros,
} from '../../src';

describe('constant folding of a node whose kernel fails', () => {
  function outOfRangeGather(): { g: Graph; y: ReturnType<typeof gather> } {
    const g = new Graph();
    const y = gather(g.constant([1, 2, 3]), g.constant([0, 7], 'int32'));
    return { g, y };
  }

  test('the session run reports a RuntimeError naming the node and the index, as an unfolded run would', () => {
    const { g, y } = outOfRangeGather();
    const run = (): unknown => new Session(g).run(y);
    expect(run).toThrow(RuntimeError);
    expect(run).toThrow(/gather 'gather' failed.*indices\[1\] = 7 is out of range/);
    expect(() => new Session(g, { optimize: false }).run(y)).toThrow(/gather 'gather' failed/);
  });

  test('optimize leaves the node unfolded (as grappler does) instead of throwing', () => {
    const { g, y } = outOfRangeGather();
    const result = optimize(g, [y]);
    expect(result.outputs[0].op).toBe('gather');
  });

  test('evaluateConstant throws a RuntimeError naming the op, node and inputs', () => {
    const { y } = outOfRangeGather();
    expect(() => evaluateConstant(y)).toThrow(RuntimeError);
    expect(() => evaluateConstant(y)).toThrow(/gather 'gather'.*int32\[2\].*indices\[1\] = 7/);
  });
});

describe('generators and initializers asked for more than one allocation may hold', () => {
  test('zeros([1e6, 1e6]) is a ResourceExhaustedError naming the op, shape and limit', () => {
    const g = new Graph();
    expect(() => zeros([1e6, 1e6], g)).toThrow(ResourceExhaustedError);
    expect(() => zeros([1e6, 1e6], g)).toThrow(
      /zeros: a float32\[1000000, 1000000\] value .* above the limit of 1 GiB/,
    );
    expect(() => ones([2 ** 20, 2 ** 20], 'int32', g)).toThrow(ResourceExhaustedError);
    expect(() => fill([2 ** 31], 3, g)).toThrow(/fill: a float32\[2147483648\]/);
  });

  test('range(0, 1e12) is a ResourceExhaustedError; a range to Infinity is a ShapeError', () => {
    const g = new Graph();
    expect(() => range(0, 1e12, 1, 'float32', g)).toThrow(ResourceExhaustedError);
    expect(() => range(0, 1e12, 1, 'float32', g)).toThrow(/range: a float32\[1000000000000\]/);
    expect(() => range(0, Infinity, g)).toThrow(ShapeError);
    expect(() => range(0, Infinity, g)).toThrow(/range: start 0 and stop Infinity must be finite/);
  });

  test('linspace(0, 1, 1e12) is a ResourceExhaustedError', () => {
    const g = new Graph();
    expect(() => linspace(0, 1, 1e12, g)).toThrow(ResourceExhaustedError);
  });

  test('an initializer for a [1e6, 1e6] variable is a ResourceExhaustedError naming the initializer', () => {
    const g = new Graph();
    const init = initializers.glorotUniform({ seed: 1 });
    expect(() => init.apply([1e6, 1e6])).toThrow(ResourceExhaustedError);
    expect(() => g.variable('w', init, { shape: [1e6, 1e6] })).toThrow(/glorotUniform: a float32\[1000000, 1000000\]/);
    expect(() => initializers.zeros().apply([1e6, 1e6])).toThrow(ResourceExhaustedError);
  });

  test('NDArray.zeros of a huge or invalid shape is a LazygradError', () => {
    expect(() => NDArray.zeros([1e6, 1e6])).toThrow(ResourceExhaustedError);
    expect(() => NDArray.zeros([-5])).toThrow(ShapeError);
  });
});

describe('checkpoints given something other than bytes', () => {
  test('restoreVariables(arrayBuffer) is a CheckpointError saying to wrap it in a Uint8Array', () => {
    const g = new Graph();
    g.variable('w', [1, 2]);
    const sess = new Session(g);
    const bytes = sess.serializeVariables();
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const restore = (): void => sess.restoreVariables(buffer as unknown as Uint8Array);
    expect(restore).toThrow(CheckpointError);
    expect(restore).toThrow(/got an ArrayBuffer.*new Uint8Array\(buffer\)/);
  });

  test('decodeSafetensors(number[]) is a CheckpointError naming what it got', () => {
    expect(() => decodeSafetensors([1, 2, 3] as unknown as Uint8Array)).toThrow(CheckpointError);
    expect(() => decodeSafetensors([1, 2, 3] as unknown as Uint8Array)).toThrow(/got an Array/);
    expect(() => decodeSafetensors(null as unknown as Uint8Array)).toThrow(/got null/);
  });
});

test('ONNX ConstantOfShape([-5]) is a GraphError naming the node and the dim', () => {
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      node: [{ opType: 'ConstantOfShape', input: ['shape'], output: ['y'], name: 'negative' }],
      initializer: [{ name: 'shape', dims: [1], dataType: 7, int64Data: [-5] }],
      output: [{ name: 'y' }],
    },
  };
  const load = (): unknown => importOnnx(onnx.ModelProto.encode(model).finish());
  expect(load).toThrow(GraphError);
  expect(load).toThrow(/node 'negative'.*the shape \[-5\] has a negative dim/);
  expect(load).toThrow(LazygradError);
});
