/**
 * Checkpoints in the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header `{name: {dtype, shape, data_offsets}, __metadata__}`, then the raw little-endian
 * data. Encoding and decoding are pure functions over bytes, so they work in browsers; only the file helpers at
 * the bottom need Node.js, and they look its `fs` up at call time so the core imports no Node module.
 */
import { allocate, DType, formatShape, Graph, LazygradError, NDArray, sizeOf } from '../graph';

/** A checkpoint that cannot be written, read, or restored into a graph: the message says what is wrong. */
export class CheckpointError extends LazygradError {}

/** One named array of a checkpoint. */
export interface CheckpointEntry {
  readonly name: string;
  readonly value: NDArray;
}

/** The arrays of a decoded checkpoint by name, in file order, and its string metadata. */
export interface DecodedCheckpoint {
  readonly tensors: ReadonlyMap<string, NDArray>;
  readonly metadata: ReadonlyMap<string, string>;
}

const SAFETENSORS_DTYPE: { readonly [D in DType]: string } = {
  float32: 'F32',
  float64: 'F64',
  int32: 'I32',
  bool: 'BOOL',
};
// A Map, not an object, so that a hostile dtype such as "constructor" finds nothing.
const LAZYGRAD_DTYPE = new Map<string, DType>(
  (Object.keys(SAFETENSORS_DTYPE) as DType[]).map((d) => [SAFETENSORS_DTYPE[d], d]),
);
const ITEM_SIZE: { readonly [D in DType]: number } = { float32: 4, float64: 8, int32: 4, bool: 1 };
const METADATA_KEY = '__metadata__';
/** The reference implementation's limit: a larger header is a corrupt or hostile file. */
const MAX_HEADER_BYTES = 100_000_000;
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface TextCodecs {
  readonly TextEncoder: new () => { encode(text: string): Uint8Array };
  readonly TextDecoder: new (label: string, options: { fatal: boolean }) => { decode(bytes: Uint8Array): string };
}
// Browsers and Node.js both provide these globals; the core's type environment (ES2022, no DOM) does not declare them.
const codecs = globalThis as unknown as TextCodecs;

function fail(message: string): never {
  throw new CheckpointError(`safetensors: ${message}`);
}

/**
 * The safetensors bytes of some named arrays: a header padded with spaces to 8 bytes, then each array's data in
 * the order given. Metadata values are strings, as the format requires.
 *
 * @example const bytes = encodeSafetensors([{ name: 'w', value: NDArray.from([1, 2]) }], { format: 'lazygrad' })
 */
export function encodeSafetensors(
  entries: readonly CheckpointEntry[],
  metadata: { readonly [key: string]: string } = {},
): Uint8Array {
  const header: { [key: string]: unknown } = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = { ...metadata };
  let offset = 0;
  const seen = new Set<string>();
  for (const { name, value } of entries) {
    if (name === METADATA_KEY) fail(`'${METADATA_KEY}' is reserved for metadata and cannot name an array`);
    if (seen.has(name)) fail(`two arrays are named '${name}'; names must be unique`);
    seen.add(name);
    const end = offset + value.size * ITEM_SIZE[value.dtype];
    // defineProperty, not assignment, so that a name such as '__proto__' becomes an ordinary key.
    Object.defineProperty(header, name, {
      value: { dtype: SAFETENSORS_DTYPE[value.dtype], shape: [...value.shape], data_offsets: [offset, end] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    offset = end;
  }
  let headerBytes = new codecs.TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(headerBytes);
    headerBytes = spaced;
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  view.setUint32(4, 0, true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const { value } of entries) {
    writeLittleEndian(value, out, position);
    position += value.size * ITEM_SIZE[value.dtype];
  }
  return out;
}

function writeLittleEndian(value: NDArray, out: Uint8Array, position: number): void {
  const data = value.data;
  if (HOST_IS_LITTLE_ENDIAN || value.dtype === 'bool') {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + position, data.byteLength);
  for (let i = 0; i < data.length; i++) {
    if (value.dtype === 'float32') view.setFloat32(i * 4, data[i], true);
    else if (value.dtype === 'float64') view.setFloat64(i * 8, data[i], true);
    else view.setInt32(i * 4, data[i], true);
  }
}

interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

function isRecord(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads safetensors bytes, validating everything before allocating anything: the header length against the
 * file size, the JSON, each dtype, shape and data_offsets, and that the arrays tile the data section exactly
 * (no overlap, no gap). Allocation is bounded by the size of the input.
 *
 * @example const { tensors } = decodeSafetensors(bytes); tensors.get('w')
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedCheckpoint {
  if (!(bytes instanceof Uint8Array)) fail(`expects the file's bytes as a Uint8Array, got ${describeInput(bytes)}`);
  if (bytes.length < 8) {
    fail(`the input is ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true) * 2 ** 32 + view.getUint32(0, true);
  if (headerLength > bytes.length - 8) {
    fail(
      `the header length field says ${headerLength} bytes, but only ${bytes.length - 8} bytes follow it ` +
        '(a truncated file, or not a safetensors file)',
    );
  }
  if (headerLength > MAX_HEADER_BYTES) fail(`the header is ${headerLength} bytes; at most ${MAX_HEADER_BYTES} allowed`);
  let parsed: unknown;
  try {
    const text = new codecs.TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    parsed = JSON.parse(text);
  } catch (error) {
    fail(`the header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (!isRecord(parsed)) fail('the header must be a JSON object of {name: {dtype, shape, data_offsets}}');

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata = new Map<string, string>();
  const infos: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === METADATA_KEY) {
      if (!isRecord(entry)) fail(`'${METADATA_KEY}' must be an object of strings`);
      for (const [key, value] of Object.entries(entry)) {
        if (typeof value !== 'string') fail(`'${METADATA_KEY}' value of '${key}' is not a string`);
        metadata.set(key, value);
      }
      continue;
    }
    infos.push(tensorInfo(name, entry, dataLength));
  }

  const ordered = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (let i = 0; i < ordered.length; i++) {
    const info = ordered[i];
    if (info.begin < covered) {
      fail(`arrays '${ordered[i - 1].name}' and '${info.name}' overlap in the data section`);
    }
    if (info.begin > covered) fail(`bytes ${covered}..${info.begin} of the data section belong to no array`);
    covered = info.end;
  }
  if (covered !== dataLength) {
    fail(`the data section has ${dataLength} bytes, but the arrays cover ${covered} (trailing bytes or truncation)`);
  }

  const tensors = new Map<string, NDArray>();
  for (const info of infos) tensors.set(info.name, readArray(bytes, dataStart, info));
  return { tensors, metadata };
}

function tensorInfo(name: string, entry: unknown, dataLength: number): TensorInfo {
  const where = `array '${name}'`;
  if (!isRecord(entry)) fail(`${where}: expected an object {dtype, shape, data_offsets}`);
  const dtype = typeof entry.dtype === 'string' ? LAZYGRAD_DTYPE.get(entry.dtype) : undefined;
  if (dtype === undefined) {
    fail(`${where}: dtype ${JSON.stringify(entry.dtype) ?? 'missing'} is not supported; valid: F32, F64, I32, BOOL`);
  }
  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    fail(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  const offsets = entry.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o: unknown) => Number.isSafeInteger(o) && (o as number) >= 0) ||
    offsets[0] > offsets[1]
  ) {
    fail(`${where}: data_offsets ${JSON.stringify(offsets)} must be two integers [begin, end] with begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    fail(`${where}: data_offsets [${begin}, ${end}] reach past the data section, which has ${dataLength} bytes`);
  }
  // Multiply with an early exit, so a hostile shape such as [1e300, 1e300] cannot overflow into a match.
  const dims = shape as number[];
  let count = dims.includes(0) ? 0 : 1;
  for (const d of dims) {
    if (count === 0 || count > dataLength) break;
    count *= d;
  }
  const bytesNeeded = count * ITEM_SIZE[dtype];
  if (bytesNeeded !== end - begin) {
    const needed = count > dataLength ? 'more than the whole file' : `${bytesNeeded} bytes`;
    fail(
      `${where}: ${entry.dtype}${formatShape(dims)} needs ${needed}, but data_offsets [${begin}, ${end}] ` +
        `hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: dims, begin, end };
}

function readArray(bytes: Uint8Array, dataStart: number, info: TensorInfo): NDArray {
  const { dtype, shape, begin, end } = info;
  const size = sizeOf(shape);
  const data = allocate(dtype, size);
  const source = bytes.subarray(dataStart + begin, dataStart + end);
  if (HOST_IS_LITTLE_ENDIAN || dtype === 'bool') {
    new Uint8Array(data.buffer).set(source);
  } else {
    const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
    for (let i = 0; i < size; i++) {
      if (dtype === 'float32') data[i] = view.getFloat32(i * 4, true);
      else if (dtype === 'float64') data[i] = view.getFloat64(i * 8, true);
      else data[i] = view.getInt32(i * 4, true);
    }
  }
  if (dtype === 'bool') {
    for (let i = 0; i < size; i++) {
      if (data[i] > 1) fail(`array '${info.name}': BOOL element ${i} is ${data[i]}; BOOL bytes are 0 or 1`);
    }
  }
  return new NDArray(data, shape, dtype);
}

function describeVariable(dtype: DType, shape: readonly (number | null)[]): string {
  return `${dtype}${formatShape(shape)}`;
}

/**
 * The checkpoint bytes of every variable of a graph, in creation order, with `valueOf` giving each one's value.
 */
export function encodeVariables(graph: Graph, valueOf: (variable: number) => NDArray): Uint8Array {
  const entries = graph.variables().map((v) => ({ name: v.name, value: valueOf(v.id) }));
  return encodeSafetensors(entries, { format: 'lazygrad' });
}

/**
 * Decodes a checkpoint and matches it to a graph's variables by name. Any difference (a variable missing from
 * the checkpoint, an array of the checkpoint that is no variable, a shape or dtype that differs) is one
 * CheckpointError listing all of them. Returns the values by variable id.
 */
/** What a caller passed instead of bytes, and how to turn an ArrayBuffer into them. */
function describeInput(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof ArrayBuffer) return 'an ArrayBuffer (wrap it: new Uint8Array(buffer))';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' ? `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}` : 'an object';
}

export function decodeVariables(graph: Graph, bytes: Uint8Array): Map<number, NDArray> {
  const { tensors } = decodeSafetensors(bytes);
  const problems: string[] = [];
  const values = new Map<number, NDArray>();
  const names = new Set<string>();
  for (const variable of graph.variables()) {
    names.add(variable.name);
    const value = tensors.get(variable.name);
    const inGraph = describeVariable(variable.dtype, variable.shape);
    if (value === undefined) {
      problems.push(`missing: variable '${variable.name}' (${inGraph}) is not in the checkpoint`);
    } else if (value.dtype !== variable.dtype || formatShape(value.shape) !== formatShape(variable.shape)) {
      const inFile = describeVariable(value.dtype, value.shape);
      problems.push(`mismatched: '${variable.name}' is ${inGraph} in the graph but ${inFile} in the checkpoint`);
    } else {
      values.set(variable.id, value);
    }
  }
  for (const [name, value] of tensors) {
    if (!names.has(name)) {
      const inFile = describeVariable(value.dtype, value.shape);
      problems.push(`extra: the checkpoint's '${name}' (${inFile}) is no variable of the graph`);
    }
  }
  if (problems.length > 0) {
    throw new CheckpointError(
      `the checkpoint does not match the graph's variables (${problems.length} ` +
        `difference${problems.length === 1 ? '' : 's'}; nothing was restored):\n  ${problems.join('\n  ')}`,
    );
  }
  return values;
}

/** The part of Node's `fs` the file helpers use (the core is compiled without Node's types). */
export interface CheckpointFileSystem {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  readFileSync(path: string): Uint8Array;
}

interface NodeProcess {
  readonly pid?: number;
  getBuiltinModule?(id: string): unknown;
}

/** Node's `fs`, looked up at call time; a clear error where there is none (browsers, Node.js before 20.16). */
export function nodeFileSystem(what: string): CheckpointFileSystem {
  const process = (globalThis as { process?: NodeProcess }).process;
  const fs = typeof process?.getBuiltinModule === 'function' ? process.getBuiltinModule('node:fs') : undefined;
  if (fs === undefined || fs === null) {
    throw new CheckpointError(
      `${what} needs Node.js 20.16 or later (process.getBuiltinModule('node:fs')); elsewhere, use ` +
        'sess.serializeVariables() / sess.restoreVariables(bytes) and store the bytes yourself',
    );
  }
  return fs as CheckpointFileSystem;
}

let temporaryCounter = 0;

/**
 * Writes bytes to a temporary file next to `path`, flushes it to disk, then renames it into place: a reader
 * (or a crash) sees the old file or the new one, never half of one. On failure the temporary file is removed
 * and the previous file at `path` is left as it was.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, fs: CheckpointFileSystem): void {
  const pid = (globalThis as { process?: NodeProcess }).process?.pid ?? 0;
  const temporary = `${path}.${pid}-${++temporaryCounter}.tmp`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(temporary, 'w');
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temporary, path);
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // Already failing: the original error is the one worth reporting.
      }
    }
    try {
      fs.unlinkSync(temporary);
    } catch {
      // The temporary file may never have been created.
    }
    throw new CheckpointError(`cannot write checkpoint '${path}': ${(error as Error).message}`);
  }
}

/** The bytes of a file, with a CheckpointError naming the path if it cannot be read. */
export function readFileBytes(path: string, fs: CheckpointFileSystem): Uint8Array {
  try {
    return fs.readFileSync(path);
  } catch (error) {
    throw new CheckpointError(`cannot read checkpoint '${path}': ${(error as Error).message}`);
  }
}

/** What the checkpoint files are read from and written to: a session's variables as safetensors bytes. */
export interface VariableBytes {
  serializeVariables(): Uint8Array;
  restoreVariables(bytes: Uint8Array): void;
}

/**
 * Writes a session's variables to a checkpoint file (Node.js), atomically (see writeFileAtomic). `what` names the
 * caller in errors.
 */
export function saveCheckpoint(source: VariableBytes, path: string, what = 'saveCheckpoint'): void {
  writeFileAtomic(path, source.serializeVariables(), nodeFileSystem(what));
}

/** Restores a session's variables from a checkpoint file (Node.js); a failed restore changes nothing. */
export function restoreCheckpoint(target: VariableBytes, path: string, what = 'restoreCheckpoint'): void {
  const bytes = readFileBytes(path, nodeFileSystem(what));
  try {
    target.restoreVariables(bytes);
  } catch (error) {
    if (error instanceof CheckpointError) throw new CheckpointError(`${what}('${path}'): ${error.message}`);
    throw error;
  }
}
