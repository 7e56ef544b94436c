/**
 * Bytes of tensors as files hold them: little-endian element bytes (the JSON format's base64 and ONNX's raw_data)
 * and a strict base64. Pure functions over typed arrays, portable to any JS runtime (no Node Buffer).
 */
import { allocate, DType, TypedArray } from '../graph';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes per element of a dtype's storage (bool is one byte, 0 or 1). */
export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
}

/** The elements of a typed array as little-endian bytes (a copy). */
export function toLittleEndian(data: TypedArray): Uint8Array {
  const bytes = new Uint8Array(data.byteLength);
  if (LITTLE_ENDIAN || data instanceof Uint8Array) {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return bytes;
  }
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i], true);
    else if (data instanceof Float64Array) view.setFloat64(i * 8, data[i], true);
    else view.setInt32(i * 4, data[i], true);
  }
  return bytes;
}

/**
 * Little-endian bytes as a new typed array of the dtype's storage. The caller has checked the length; bool bytes
 * other than 0 and 1 are a file error the caller reports (see `invalidBoolByte`).
 */
export function fromLittleEndian(bytes: Uint8Array, dtype: DType, count: number): TypedArray {
  const out = allocate(dtype, count);
  const size = bytesPerElement(dtype);
  if (bytes.length !== count * size) throw new RangeError(`expected ${count * size} bytes, got ${bytes.length}`);
  if (LITTLE_ENDIAN || dtype === 'bool') {
    // Copying through a fresh buffer also fixes alignment: protobuf byte fields are views at any offset.
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) {
    out[i] =
      dtype === 'float32'
        ? view.getFloat32(i * 4, true)
        : dtype === 'float64'
          ? view.getFloat64(i * 8, true)
          : view.getInt32(i * 4, true);
  }
  return out;
}

/** The index of the first bool byte that is neither 0 nor 1, or -1. */
export function invalidBoolByte(data: TypedArray): number {
  for (let i = 0; i < data.length; i++) if (data[i] !== 0 && data[i] !== 1) return i;
  return -1;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Standard base64 (RFC 4648, with padding). */
export function encodeBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const chunk: string[] = [];
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i];
    const b = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2] : 0;
    chunk.push(
      ALPHABET[a >> 2] +
        ALPHABET[((a & 3) << 4) | (b >> 4)] +
        (i + 1 < bytes.length ? ALPHABET[((b & 15) << 2) | (c >> 6)] : '=') +
        (i + 2 < bytes.length ? ALPHABET[c & 63] : '='),
    );
    // Joining in chunks keeps the intermediate arrays small for large tensors.
    if (chunk.length === 4096) parts.push(chunk.splice(0).join(''));
  }
  parts.push(chunk.join(''));
  return parts.join('');
}

/**
 * Decodes strict base64: the standard alphabet, length a multiple of 4, padding only at the end, no whitespace.
 * Returns an error message instead of throwing, so the caller can name the node and field.
 */
export function decodeBase64(text: string): Uint8Array | string {
  if (text.length % 4 !== 0) return `base64 length ${text.length} is not a multiple of 4`;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const values = [0, 0, 0, 0];
    for (let k = 0; k < 4; k++) {
      const code = text.charCodeAt(i + k);
      const isPad = last && code === 61 && k >= 4 - padding;
      const value = code < 128 ? DECODE[code] : -1;
      if (!isPad && value < 0) return `invalid base64 character at offset ${i + k}`;
      values[k] = isPad ? 0 : value;
    }
    const triple = (values[0] << 18) | (values[1] << 12) | (values[2] << 6) | values[3];
    if (o < out.length) out[o++] = (triple >> 16) & 255;
    if (o < out.length) out[o++] = (triple >> 8) & 255;
    if (o < out.length) out[o++] = triple & 255;
  }
  return out;
}
