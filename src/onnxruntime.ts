/**
 * `lazygrad/onnxruntime`: importing it adds the 'onnxruntime' backend to `Session` (`new Session(g, { backend:
 * 'onnxruntime' })`, runs by `await sess.runAsync(...)`), and exports `onnxRuntimeSupport` (whether ONNX Runtime can
 * run a node, else why not). ONNX Runtime itself is an optional peer: onnxruntime-node in Node.js, onnxruntime-web in
 * browsers (docs/backends.md).
 *
 * @example
 * import { Graph, Session } from 'lazygrad';
 * import 'lazygrad/onnxruntime';
 * const sess = new Session(g, { backend: 'onnxruntime' });
 * const { loss } = await sess.runAsync({ loss, step }, feeds);
 */
import * as runner from './session/ort/backend';
import { registerOnnxRuntimeBackend } from './session/ort/registry';

registerOnnxRuntimeBackend(runner);

export { onnxRuntimeSupport } from './interop/onnx/ort-support';
export type { OnnxRuntimeModule } from './session/ort/module';
