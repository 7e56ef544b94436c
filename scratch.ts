import { exportOnnx } from './src';
import { decodeModel } from './src/interop/onnx/proto';
import { mlpGraph } from './tests/interop/graphs';
const mlp = mlpGraph();
const bytes = Uint8Array.from(exportOnnx(mlp.graph, { outputs: [mlp.loss] }));
bytes[0] = 0;
try { decodeModel(bytes); } catch (e) { console.log((e as Error).message); }
