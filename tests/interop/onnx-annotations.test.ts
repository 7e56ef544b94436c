/**
 * Annotations (the doc strings exportOnnx writes) only add what an ONNX node cannot say: names and lazygrad-only
 * attributes. One that names an op the node's ONNX op cannot stand for (per the export rules), or that would make an
 * initializer anything but a constant or a variable, is a GraphError naming the node, its op and the annotation.
 */
import { onnx } from 'onnx-proto';
import {
  exportOnnx,
  Graph,
  GraphError,
  identity,
  importOnnx,
  mul,
  NDArray,
  relu,
  rsqrt,
  Session,
  Tensor,
} from '../../src';

const { r: R, copy: COPY } = exported();

/** x → relu (named 'r' as an output) → identity ('copy'); a variable v times r ('scaled'). */
function exported(): { bytes: Uint8Array; x: NDArray; r: string; copy: string } {
  const g = new Graph();
  const x = g.placeholder('x', [4]);
  const v = g.variable('v', NDArray.from([1, 2, 3, 4], 'float32'));
  const r = relu(x);
  const copy = identity(r);
  return {
    bytes: exportOnnx(g, { outputs: [r, copy, mul(v, r)] }),
    x: NDArray.from([-1, 2, -3, 4], 'float32'),
    r: r.name,
    copy: copy.name,
  };
}

function tampered(change: (model: onnx.ModelProto) => void): Uint8Array {
  const model = onnx.ModelProto.decode(exported().bytes);
  change(model);
  return onnx.ModelProto.encode(model).finish();
}

const nodeNamed = (model: onnx.ModelProto, output: string): onnx.NodeProto =>
  model.graph?.node?.find((n) => (n.output ?? []).includes(output)) as onnx.NodeProto;

test('the untampered model imports back with its annotations and computes as before', () => {
  const { bytes, x } = exported();
  const imported = importOnnx(bytes);
  const feeds = new Map([[imported.inputs.get('x') as Tensor, x]]);
  const [r, copy] = new Session(imported.graph).run(imported.outputs.slice(0, 2), feeds);
  expect(Array.from(r.data)).toEqual([0, 2, 0, 4]);
  expect(Array.from(copy.data)).toEqual([0, 2, 0, 4]);
  expect(imported.outputs[0].node.op).toBe('relu');
});

test('a Relu annotated as neg is a GraphError naming the node, its op and the annotation', () => {
  const bytes = tampered((model) => {
    const node = nodeNamed(model, R);
    expect(node.opType).toBe('Relu');
    node.docString = 'lazygrad:{"op":"neg","attrs":{},"inputs":["x"]}';
  });
  expect(() => importOnnx(bytes)).toThrow(GraphError);
  expect(() => importOnnx(bytes)).toThrow(new RegExp(`node '${R}' \\(Relu\\).*annotation op 'neg'`));
});

test('an Identity annotated as assign (writing a variable) is a GraphError', () => {
  const bytes = tampered((model) => {
    const node = nodeNamed(model, COPY);
    expect(node.opType).toBe('Identity');
    node.docString = `lazygrad:{"op":"assign","attrs":{},"inputs":["v","${R}"]}`;
  });
  expect(() => importOnnx(bytes)).toThrow(GraphError);
  expect(() => importOnnx(bytes)).toThrow(new RegExp(`node '${COPY}' \\(Identity\\).*annotation op 'assign'`));
});

test('an initializer annotated as an op other than constant or variable is a GraphError', () => {
  for (const op of ['relu', 'placeholder', 'assign']) {
    const bytes = tampered((model) => {
      const init = model.graph?.initializer?.find((i) => i.name === 'v') as onnx.TensorProto;
      expect(init.docString).toContain('"op":"variable"');
      init.docString = `lazygrad:{"op":"${op}","attrs":{}}`;
    });
    expect(() => importOnnx(bytes)).toThrow(GraphError);
    expect(() => importOnnx(bytes)).toThrow(new RegExp(`initializer 'v'.*annotation op '${op}'`));
  }
});

test('an annotation naming an op the ONNX op can stand for is kept (Identity as stopGradient)', () => {
  const bytes = tampered((model) => {
    nodeNamed(model, COPY).docString = `lazygrad:{"op":"stopGradient","attrs":{},"inputs":["${R}"]}`;
  });
  expect(importOnnx(bytes).outputs[1].node.op).toBe('stopGradient');
});

test('an annotation giving other inputs than the ONNX node reads is a GraphError', () => {
  const bytes = tampered((model) => {
    nodeNamed(model, COPY).docString = 'lazygrad:{"op":"identity","attrs":{},"inputs":["x"]}';
  });
  expect(() => importOnnx(bytes)).toThrow(new RegExp(`node '${COPY}' \\(Identity\\).*annotation`));
});

test('an annotation rewiring the helper nodes of a multi-node op (rsqrt as Reciprocal(Sqrt)) is a GraphError', () => {
  const g = new Graph();
  const a = g.placeholder('a', [3]);
  const b = g.placeholder('b', [3]);
  const y = rsqrt(a);
  const model = onnx.ModelProto.decode(exportOnnx(g, { outputs: [y, relu(b)] }));
  const node = nodeNamed(model, y.name);
  expect(node.opType).toBe('Reciprocal');
  expect(node.docString).toContain('"inputs":["a"]');
  // The untampered model keeps its rsqrt; the same annotation reading b instead of a is refused.
  expect(importOnnx(onnx.ModelProto.encode(model).finish()).outputs[0].node.op).toBe('rsqrt');
  node.docString = (node.docString ?? '').replace('"inputs":["a"]', '"inputs":["b"]');
  expect(() => importOnnx(onnx.ModelProto.encode(model).finish())).toThrow(/annotation op 'rsqrt'.*reads 'b' where/);
});
