/**
 * @jest-environment ./tests/interop/ort-environment.js
 */
/**
 * The opset the 'onnxruntime' backend exports at: ORT_OPSET (21) for an ONNX Runtime of 1.18 or later, 17 for an
 * older one (whose IR version stops at 9). What opset 21 adds shows in the split: a dilated avgPool (AveragePool's
 * dilations are from opset 19) runs in ONNX Runtime, and in lazygrad at 17.
 */
import * as ortNode from 'onnxruntime-node';
import * as L from '../../src';
import { Graph, Session } from '../../src';
import { decodeModel } from '../../src/interop/onnx/onnx-messages';
import { OnnxRuntimeModule } from '../../src/session/ort/module';
import { opsetFor, ORT_OPSET } from '../../src/session/ort/partition';
import { expectClose, randomArray, Rng } from '../ops/util';

/** onnxruntime-node claiming another version, recording the opset of each model it is given. */
function versioned(version: string | undefined): { module: OnnxRuntimeModule; opsets: number[] } {
  const opsets: number[] = [];
  const module = {
    Tensor: ortNode.Tensor,
    env: version === undefined ? {} : { versions: { common: version } },
    InferenceSession: {
      async create(bytes: Uint8Array, options?: object) {
        const model = decodeModel(bytes);
        opsets.push(Number(model.opsetImport?.find((o) => (o.domain ?? '') === '')?.version ?? -1));
        return ortNode.InferenceSession.create(bytes, options as ortNode.InferenceSession.SessionOptions);
      },
    },
  } as unknown as OnnxRuntimeModule;
  return { module, opsets };
}

describe("backend 'onnxruntime': the opset it exports at", () => {
  test('opsetFor: 21 from ONNX Runtime 1.18 on (and when the version is not known), 17 before', () => {
    expect(ORT_OPSET).toBe(21);
    expect(opsetFor(ortNode)).toBe(21);
    expect(opsetFor({ env: { versions: { common: '1.18.0' } } })).toBe(21);
    expect(opsetFor({ env: { versions: { common: '2.0.1' } } })).toBe(21);
    expect(opsetFor({ env: { versions: { common: '1.17.3' } } })).toBe(17);
    expect(opsetFor({ env: { versions: { common: '1.9.0' } } })).toBe(17);
    expect(opsetFor({})).toBe(21);
  });

  test.each([
    ['1.30.0', 21, 'ONNX Runtime'],
    ['1.17.0', 17, 'lazygrad'],
  ])(
    'ONNX Runtime %s: models at opset %i; a dilated avgPool runs in %s, with the wasm backend’s values',
    async (version, opset, where) => {
      const g = new Graph();
      const x = g.placeholder('x', [1, 7, 7, 2]);
      const y = L.pool(x, 3, 'avg', 'valid', 2, 1);
      const z = L.mul(y, 2);
      const feeds = new Map([[x, randomArray(new Rng(7), [1, 7, 7, 2], 'float32')]]);
      const { module, opsets } = versioned(version);
      const sess = new Session(g, { backend: 'onnxruntime', onnxruntime: module });
      const got = await sess.runAsync(z, feeds);
      expectClose(got, new Session(g).run(z, feeds), 1e-5);
      expect(new Set(opsets)).toEqual(new Set([opset]));
      const text = sess.explain(z, feeds);
      if (where === 'ONNX Runtime') {
        expect(text).toMatch(/1 segment \(1 in ONNX Runtime, 0 in lazygrad kernels\)/);
      } else {
        expect(text).toMatch(/takes from opset 19/);
      }
    },
  );
});
