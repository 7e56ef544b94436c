import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as fs from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  add,
  assign,
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  Graph,
  mul,
  NDArray,
  Session,
  square,
  sub,
  sum,
  Tensor,
  train,
} from '../src';
import { CheckpointFileSystem, writeFileAtomic } from '../src/session/checkpoint';
import { Rng } from './ops/util';

/** A graph with a variable of every dtype, a scalar and an empty one. */
function modelGraph(): { graph: Graph; w: Tensor; step: Tensor } {
  const graph = new Graph();
  const w = graph.variable(
    'layer/w',
    NDArray.from([
      [1.5, -2],
      [0.25, 3],
    ]),
  );
  graph.variable('layer/b', NDArray.from([0.5, -0.5], 'float64'));
  const step = graph.variable('step', NDArray.from(0, 'int32'));
  graph.variable('mask', NDArray.from([true, false, true]));
  graph.variable('empty', NDArray.zeros([0, 3]));
  return { graph, w, step };
}

function values(session: Session): Map<string, NDArray> {
  return new Map(session.graph.variables().map((v) => [v.name, session.variableValue(v)]));
}

/** Bitwise equality (so NaN equals NaN and −0 differs from 0). */
function sameBits(a: NDArray, b: NDArray): boolean {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Minimal safetensors bytes from a header object and a data section, for hand-made (bad) files. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText = JSON.stringify(header)) {
  const text = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function expectCheckpointError(action: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(CheckpointError);
  expect((thrown as Error).message).toMatch(message);
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lazygrad-ckpt-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('serializeVariables / restoreVariables', () => {
  test('a round trip restores every value bit for bit, NaN, ±Infinity and −0 included', () => {
    const graph = new Graph();
    const special = [NaN, -0, 0, Infinity, -Infinity, 1e-45, 3.4e38, -1.5];
    const v32 = graph.variable('f32', NDArray.from(special));
    const v64 = graph.variable('f64', NDArray.from([...special, 1e-310, Math.PI], 'float64'));
    const vi = graph.variable('i32', NDArray.from([-(2 ** 31), 2 ** 31 - 1, 0, -7], 'int32'));
    const vb = graph.variable('bool', NDArray.from([true, false, false, true]));
    const scalar = graph.variable('scalar', NDArray.from(-0));
    const source = new Session(graph);
    const bytes = source.serializeVariables();

    const target = new Session(graph);
    for (const v of [v32, v64, vi, vb, scalar]) {
      target.run(assign(v, graph.constant(NDArray.zeros(v.shape as number[], v.dtype))));
    }
    target.restoreVariables(bytes);
    for (const [name, value] of values(source)) expect(sameBits(value, values(target).get(name) as NDArray)).toBe(true);
    expect(Object.is(target.variableValue(scalar).get(), -0)).toBe(true);
    expect(Number.isNaN(target.variableValue(v32).get(0))).toBe(true);
  });

  test('variables never run are saved with their initial values, updated ones with their current values', () => {
    const { graph, w, step } = modelGraph();
    const session = new Session(graph);
    session.run([assign(w, add(w, 1)), assign(step, add(step, 1))]);
    const { tensors } = decodeSafetensors(session.serializeVariables());
    expect(tensors.get('layer/w')?.toArray()).toEqual([
      [2.5, -1],
      [1.25, 4],
    ]);
    expect(tensors.get('step')?.toArray()).toBe(1);
    expect(tensors.get('layer/b')?.toArray()).toEqual([0.5, -0.5]);
    expect(tensors.get('mask')?.toArray()).toEqual([true, false, true]);
    expect(tensors.get('empty')?.shape).toEqual([0, 3]);
  });

  test("an optimizer's slots and step count are saved, so training resumes exactly where it stopped", () => {
    const build = (): { graph: Graph; loss: Tensor; update: Tensor } => {
      const graph = new Graph();
      const w = graph.variable('w', NDArray.from([1, -2, 0.5]));
      const loss = sum(square(sub(w, 3)));
      return { graph, loss, update: train.adam(0.1).minimize(loss) };
    };
    const reference = build();
    const straight = new Session(reference.graph);
    for (let i = 0; i < 6; i++) straight.run(reference.update);

    const first = build();
    const before = new Session(first.graph);
    for (let i = 0; i < 3; i++) before.run(first.update);
    const bytes = before.serializeVariables();
    expect([...decodeSafetensors(bytes).tensors.keys()].sort()).toEqual(['adam/step', 'w', 'w/adam_m', 'w/adam_v']);
    const second = build();
    const resumed = new Session(second.graph);
    resumed.restoreVariables(bytes);
    for (let i = 0; i < 3; i++) resumed.run(second.update);
    expect(resumed.run(second.loss).get()).toBe(straight.run(reference.loss).get());
  });

  test('random values of a large variable survive the round trip', () => {
    const rng = new Rng(7);
    const graph = new Graph();
    const data = Float32Array.from({ length: 784 * 32 }, () => rng.normal());
    const w = graph.variable('w', new NDArray(data, [784, 32]));
    const session = new Session(graph);
    const restored = new Session(graph);
    restored.run(assign(w, mul(w, 2)));
    restored.restoreVariables(session.serializeVariables());
    expect(sameBits(restored.variableValue(w), new NDArray(data, [784, 32]))).toBe(true);
  });
});

describe('the file format', () => {
  test('the header is JSON padded to 8 bytes with dtype, shape and contiguous data_offsets for every variable', () => {
    const { graph } = modelGraph();
    const bytes = new Session(graph).serializeVariables();
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const headerLength = Number(view.getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(header).toEqual({
      __metadata__: { format: 'lazygrad' },
      'layer/w': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
      'layer/b': { dtype: 'F64', shape: [2], data_offsets: [16, 32] },
      step: { dtype: 'I32', shape: [], data_offsets: [32, 36] },
      mask: { dtype: 'BOOL', shape: [3], data_offsets: [36, 39] },
      empty: { dtype: 'F32', shape: [0, 3], data_offsets: [39, 39] },
    });
    expect(bytes.length).toBe(8 + headerLength + 39);
  });

  test('an independent minimal reader recovers the values from the raw little-endian bytes', () => {
    const { graph } = modelGraph();
    const bytes = new Session(graph).serializeVariables();
    // A reader written from the format description alone: u64 length, JSON, then offsets into the data section.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = Number(view.getBigUint64(0, true));
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
    const base = 8 + n;
    const read = (name: string): number[] => {
      const {
        dtype,
        data_offsets: [begin, end],
      } = header[name];
      const out: number[] = [];
      const size = { F32: 4, F64: 8, I32: 4, BOOL: 1 }[dtype as 'F32' | 'F64' | 'I32' | 'BOOL'];
      for (let at = base + begin; at < base + end; at += size) {
        if (dtype === 'F32') out.push(view.getFloat32(at, true));
        if (dtype === 'F64') out.push(view.getFloat64(at, true));
        if (dtype === 'I32') out.push(view.getInt32(at, true));
        if (dtype === 'BOOL') out.push(view.getUint8(at));
      }
      return out;
    };
    expect(read('layer/w')).toEqual([1.5, -2, 0.25, 3]);
    expect(read('layer/b')).toEqual([0.5, -0.5]);
    expect(read('step')).toEqual([0]);
    expect(read('mask')).toEqual([1, 0, 1]);
    expect(read('empty')).toEqual([]);
  });

  test('encodeSafetensors writes metadata and decodeSafetensors returns it', () => {
    const bytes = encodeSafetensors([{ name: 'x', value: NDArray.from([1, 2]) }], { epoch: '3' });
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata.get('epoch')).toBe('3');
    expect(tensors.get('x')?.toArray()).toEqual([1, 2]);
  });

  test('names such as __proto__ and constructor are ordinary names', () => {
    const bytes = encodeSafetensors([
      { name: '__proto__', value: NDArray.from([1]) },
      { name: 'constructor', value: NDArray.from([2]) },
    ]);
    const { tensors } = decodeSafetensors(bytes);
    expect([...tensors.keys()]).toEqual(['__proto__', 'constructor']);
    expect(tensors.get('__proto__')?.toArray()).toEqual([1]);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  test('reserved and duplicate names are rejected when encoding', () => {
    const value = NDArray.from([1]);
    expectCheckpointError(() => encodeSafetensors([{ name: '__metadata__', value }]), /reserved/);
    expectCheckpointError(
      () =>
        encodeSafetensors([
          { name: 'a', value },
          { name: 'a', value },
        ]),
      /unique/,
    );
  });
});

describe('bad, truncated and hostile input', () => {
  const good = (): Uint8Array => new Session(modelGraph().graph).serializeVariables();

  test('every truncation of a valid checkpoint is rejected with a CheckpointError', () => {
    const bytes = good();
    for (let length = 0; length < bytes.length; length++) {
      expect(() => decodeSafetensors(bytes.subarray(0, length))).toThrow(CheckpointError);
    }
  });

  test('a file shorter than the length field is rejected, saying so', () => {
    expectCheckpointError(() => decodeSafetensors(new Uint8Array(5)), /5 bytes.*8-byte header length/);
  });

  test('a header length beyond the file is rejected before anything is allocated', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setUint32(4, 0x7fffffff, true); // ~9e18 bytes
    expectCheckpointError(() => decodeSafetensors(bytes), /header length field says \d+ bytes, but only 8/);
  });

  test('a header that is not JSON, or not an object, is rejected', () => {
    expectCheckpointError(() => decodeSafetensors(rawFile(null, undefined, '{"a": ')), /not valid UTF-8 JSON/);
    expectCheckpointError(() => decodeSafetensors(rawFile([1, 2])), /must be a JSON object/);
    const invalidUtf8 = rawFile({});
    invalidUtf8[8] = 0xff;
    expectCheckpointError(() => decodeSafetensors(invalidUtf8), /not valid UTF-8 JSON/);
  });

  test('an unknown dtype is rejected, naming it and the valid ones', () => {
    const file = rawFile({ x: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4));
    expectCheckpointError(() => decodeSafetensors(file), /array 'x': dtype "F16" is not supported; valid: F32/);
  });

  test('data_offsets past the data section are rejected', () => {
    const file = rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4));
    expectCheckpointError(() => decodeSafetensors(file), /reach past the data section, which has 4 bytes/);
  });

  test('malformed data_offsets and shapes are rejected', () => {
    const data = new Uint8Array(4);
    const bad = [
      { dtype: 'F32', shape: [1], data_offsets: [4, 0] },
      { dtype: 'F32', shape: [1], data_offsets: [0] },
      { dtype: 'F32', shape: [1], data_offsets: [0, 4.5] },
      { dtype: 'F32', shape: [-1], data_offsets: [0, 4] },
      { dtype: 'F32', shape: '1', data_offsets: [0, 4] },
    ];
    for (const entry of bad) expect(() => decodeSafetensors(rawFile({ x: entry }, data))).toThrow(CheckpointError);
  });

  test('a size that disagrees with the shape is rejected, huge shapes included', () => {
    const small = rawFile({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
    expectCheckpointError(() => decodeSafetensors(small), /F32\[3\] needs 12 bytes, but data_offsets \[0, 8\] hold 8/);
    const huge = rawFile({ x: { dtype: 'F64', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, new Uint8Array(8));
    expectCheckpointError(() => decodeSafetensors(huge), /needs more than the whole file/);
  });

  test('overlapping arrays and bytes that belong to no array are rejected', () => {
    const overlap = rawFile(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      new Uint8Array(12),
    );
    expectCheckpointError(() => decodeSafetensors(overlap), /'a' and 'b' overlap/);
    const gap = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8));
    expectCheckpointError(() => decodeSafetensors(gap), /bytes 0\.\.4 of the data section belong to no array/);
    const trailing = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8));
    expectCheckpointError(() => decodeSafetensors(trailing), /cover 4/);
  });

  test('metadata must map strings to strings, and BOOL bytes must be 0 or 1', () => {
    expectCheckpointError(() => decodeSafetensors(rawFile({ __metadata__: { epoch: 3 } })), /not a string/);
    const bool = rawFile({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, Uint8Array.from([1, 7]));
    expectCheckpointError(() => decodeSafetensors(bool), /BOOL element 1 is 7/);
  });

  test('a failed restore changes no variable', () => {
    const { graph, w } = modelGraph();
    const session = new Session(graph);
    session.run(assign(w, add(w, 10)));
    const before = values(session);
    const bytes = good();
    const corrupted = bytes.slice();
    corrupted[corrupted.length - 1] = 9; // the last element of the BOOL array 'mask'
    expect(() => session.restoreVariables(bytes.subarray(0, bytes.length - 1))).toThrow(CheckpointError);
    expect(() => session.restoreVariables(corrupted)).toThrow(CheckpointError);
    for (const [name, value] of values(session)) expect(sameBits(value, before.get(name) as NDArray)).toBe(true);
  });
});

describe('restoring into a different graph', () => {
  test('lists every missing, extra and mismatched variable, and changes nothing', () => {
    const { graph } = modelGraph();
    const bytes = new Session(graph).serializeVariables();
    const other = new Graph();
    const w = other.variable('layer/w', NDArray.zeros([3, 2])); // shape differs
    other.variable('layer/b', NDArray.zeros([2])); // float32 here, float64 in the checkpoint
    other.variable('step', NDArray.from(5, 'int32'));
    other.variable('mask', NDArray.from([false, false, false]));
    other.variable('new/v', NDArray.zeros([4])); // not in the checkpoint; 'empty' is not in this graph
    const session = new Session(other);
    let message = '';
    try {
      session.restoreVariables(bytes);
    } catch (error) {
      expect(error).toBeInstanceOf(CheckpointError);
      message = (error as Error).message;
    }
    expect(message).toContain('4 differences; nothing was restored');
    expect(message).toContain(
      "mismatched: 'layer/w' is float32[3, 2] in the graph but float32[2, 2] in the checkpoint",
    );
    expect(message).toContain("mismatched: 'layer/b' is float32[2] in the graph but float64[2] in the checkpoint");
    expect(message).toContain("missing: variable 'new/v' (float32[4]) is not in the checkpoint");
    expect(message).toContain("extra: the checkpoint's 'empty' (float32[0, 3]) is no variable of the graph");
    expect(session.variableValue(w).toArray()).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    expect(session.variableValue(other.byName('step') as Tensor).get()).toBe(5);
  });

  test('a checkpoint restores into a new session of an identically built graph', () => {
    const build = (): { graph: Graph; w: Tensor } => {
      const graph = new Graph();
      return { graph, w: graph.variable('w', NDArray.from([1, 2, 3])) };
    };
    const first = build();
    const trained = new Session(first.graph);
    trained.run(assign(first.w, mul(first.w, 3)));
    const second = build();
    const fresh = new Session(second.graph);
    fresh.restoreVariables(trained.serializeVariables());
    expect(fresh.variableValue(second.w).toArray()).toEqual([3, 6, 9]);
  });
});

describe('save and restore files', () => {
  test('save writes a checkpoint that restore reads, leaving no temporary file behind', () => {
    const { graph, w } = modelGraph();
    const session = new Session(graph);
    session.run(assign(w, add(w, 1)));
    const path = join(dir, 'model.safetensors');
    session.save(path);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    const restored = new Session(graph);
    restored.restore(path);
    expect(restored.variableValue(w).toArray()).toEqual([
      [2.5, -1],
      [1.25, 4],
    ]);
  });

  test('save replaces an existing checkpoint', () => {
    const { graph, w } = modelGraph();
    const session = new Session(graph);
    const path = join(dir, 'model.safetensors');
    session.save(path);
    session.run(
      assign(
        w,
        graph.constant([
          [0, 0],
          [0, 0],
        ]),
      ),
    );
    session.save(path);
    expect(decodeSafetensors(readFileSync(path)).tensors.get('layer/w')?.toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  test('a write that fails halfway leaves the previous checkpoint intact and removes the temporary file', () => {
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'previous');
    let writes = 0;
    const failing: CheckpointFileSystem = {
      ...(fs as unknown as CheckpointFileSystem),
      writeSync: (fd, buffer, offset, length) => {
        if (++writes > 1) throw new Error('ENOSPC: no space left on device');
        return fs.writeSync(fd, buffer, offset, Math.min(length, 10));
      },
    };
    const bytes = new Session(modelGraph().graph).serializeVariables();
    expectCheckpointError(() => writeFileAtomic(path, bytes, failing), /cannot write checkpoint .*ENOSPC/);
    expect(readFileSync(path, 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  test('a failed rename leaves the previous checkpoint intact and removes the temporary file', () => {
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'previous');
    const failing: CheckpointFileSystem = {
      ...(fs as unknown as CheckpointFileSystem),
      renameSync: () => {
        throw new Error('EXDEV: cross-device link not permitted');
      },
    };
    expectCheckpointError(() => writeFileAtomic(path, new Uint8Array(64), failing), /EXDEV/);
    expect(readFileSync(path, 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  test('restore names the file when it is missing or does not match', () => {
    const { graph } = modelGraph();
    const session = new Session(graph);
    expectCheckpointError(() => session.restore(join(dir, 'nope.safetensors')), /cannot read checkpoint .*nope/);
    const path = join(dir, 'other.safetensors');
    writeFileSync(path, encodeSafetensors([{ name: 'x', value: NDArray.from([1]) }]));
    expectCheckpointError(() => session.restore(path), /Session\.restore\('.*other\.safetensors'\): [\s\S]*missing/);
    expect(existsSync(path)).toBe(true);
  });

  test('without process.getBuiltinModule (browsers, old Node.js) save and restore explain what to use instead', () => {
    const session = new Session(modelGraph().graph);
    const original = process.getBuiltinModule;
    (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
    try {
      expectCheckpointError(() => session.save(join(dir, 'x')), /Node\.js 20\.16 or later.*serializeVariables/);
      expectCheckpointError(() => session.restore(join(dir, 'x')), /Session\.restore needs Node\.js 20\.16/);
    } finally {
      process.getBuiltinModule = original;
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
