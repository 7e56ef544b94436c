/**
 * The protobuf wire format, as far as ONNX uses it: varints (int32, int64, enums, tags, lengths), fixed32 (float),
 * fixed64 (double), length-delimited fields (strings, bytes, messages, packed repeated scalars). Groups (wire types 3
 * and 4) are refused: no ONNX message has them. Every length is checked against the bytes before anything is read,
 * so a hostile file cannot make the reader run past its buffer or allocate more than the file's size.
 */
import { GraphError } from '../../graph';

export const VARINT = 0;
export const FIXED64 = 1;
export const BYTES = 2;
export const FIXED32 = 5;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** A read cursor over one message's bytes: [pos, end) of `bytes`. */
export class WireReader {
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    public end = bytes.length,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(problem: string): GraphError {
    return new GraphError(`${problem} at byte ${this.pos}`);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint of at most 10 bytes as [low 32 bits, high 32 bits], both unsigned. */
  private varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw this.fail('a varint runs past the end of its message');
      const b = this.bytes[this.pos++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw this.fail('a varint is longer than 10 bytes');
  }

  /** A field tag: field number << 3 | wire type (the field number is at least 1). */
  tag(): number {
    if (this.pos < this.end && this.bytes[this.pos] < 0x80) {
      const b = this.bytes[this.pos++];
      if (b >>> 3 === 0) throw this.fail(`invalid field tag ${b}`);
      return b;
    }
    const [lo, hi] = this.varint64();
    if (hi !== 0 || lo >>> 3 === 0) throw this.fail(`invalid field tag ${lo}`);
    return lo;
  }

  /** An int32 or enum (negative values are sign-extended 10-byte varints: the low 32 bits hold the value). */
  int32(): number {
    if (this.pos < this.end && this.bytes[this.pos] < 0x80) return this.bytes[this.pos++];
    return this.varint64()[0] | 0;
  }

  /**
   * An int64 as a JS number: exact up to 2^53 in magnitude; beyond that the nearest double (as ONNX Runtime's
   * int64 limits such as Slice's INT64_MAX read as 2^63). Callers needing exact values check Number.isSafeInteger.
   */
  int64(): number {
    if (this.pos < this.end && this.bytes[this.pos] < 0x80) return this.bytes[this.pos++];
    const [lo, hi] = this.varint64();
    return hi >= 0x80000000 ? -((~hi >>> 0) * 2 ** 32 + (~lo >>> 0) + 1) : hi * 2 ** 32 + lo;
  }

  /** A length of a length-delimited field, checked against the bytes left in this message. */
  length(): number {
    if (this.pos < this.end && this.bytes[this.pos] < 0x80) {
      const n = this.bytes[this.pos++];
      if (n > this.end - this.pos) throw this.fail(`a field of ${n} bytes runs past the end of its message`);
      return n;
    }
    const [lo, hi] = this.varint64();
    if (hi !== 0 || lo > this.end - this.pos)
      throw this.fail(`a field of ${hi * 2 ** 32 + lo} bytes runs past the end of its message`);
    return lo;
  }

  float(): number {
    if (this.end - this.pos < 4) throw this.fail('a float runs past the end of its message');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.end - this.pos < 8) throw this.fail('a double runs past the end of its message');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A bytes field: a view of the input (no copy). */
  bytesField(): Uint8Array {
    const n = this.length();
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return utf8Decode(this.bytesField());
  }

  /** Reads an embedded message with `read`, bounded by its length prefix (which must be read exactly). */
  message<T>(read: (r: WireReader) => T): T {
    const n = this.length();
    const outer = this.end;
    this.end = this.pos + n;
    const value = read(this);
    if (this.pos !== this.end) throw this.fail('a message ends inside a field');
    this.end = outer;
    return value;
  }

  /**
   * A repeated scalar field of `kind`: packed (one length-delimited run) or not (one value per tag), as protobuf
   * readers must accept both. Pushes onto `into`.
   */
  repeated(wireType: number, kind: 'int32' | 'int64' | 'float' | 'double', into: number[]): void {
    const scalar = kind === 'float' ? FIXED32 : kind === 'double' ? FIXED64 : VARINT;
    if (wireType !== BYTES) {
      if (wireType !== scalar) throw this.fail(`wire type ${wireType} where a repeated ${kind} was expected`);
      into.push(this[kind]());
      return;
    }
    const n = this.length();
    const end = this.pos + n;
    if (kind === 'float' || kind === 'double') {
      const size = kind === 'float' ? 4 : 8;
      if (n % size !== 0) throw this.fail(`a packed ${kind} field of ${n} bytes ends inside a value`);
      if (LITTLE_ENDIAN) {
        // An aligned copy read as a typed array: faster than a DataView per value.
        // (Not bytes.slice: a Node Buffer's slice is a view of its whole pool.)
        const copy = new Uint8Array(n);
        copy.set(this.bytes.subarray(this.pos, end));
        const values = size === 4 ? new Float32Array(copy.buffer) : new Float64Array(copy.buffer);
        for (let k = 0; k < values.length; k++) into.push(values[k]);
      } else {
        for (let at = this.pos; at < end; at += size)
          into.push(size === 4 ? this.view.getFloat32(at, true) : this.view.getFloat64(at, true));
      }
      this.pos = end;
      return;
    }
    const outer = this.end;
    this.end = end; // a varint cut by the field's end is an error, not a read into the next field
    while (this.pos < end) into.push(kind === 'int32' ? this.int32() : this.int64());
    this.end = outer;
  }

  /** Checks a singular field's wire type. */
  expect(wireType: number, expected: number, field: string): void {
    if (wireType !== expected) throw this.fail(`field ${field} has wire type ${wireType}, expected ${expected}`);
  }

  /** Skips a field this reader does not use (proto2 readers must skip unknown fields). */
  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint64();
        return;
      case FIXED64:
        if (this.end - this.pos < 8) throw this.fail('a fixed64 runs past the end of its message');
        this.pos += 8;
        return;
      case BYTES: {
        const n = this.length(); // read first: `this.pos += this.length()` would add to the old position
        this.pos += n;
        return;
      }
      case FIXED32:
        if (this.end - this.pos < 4) throw this.fail('a fixed32 runs past the end of its message');
        this.pos += 4;
        return;
      default:
        throw this.fail(`wire type ${wireType} is not used by ONNX (groups and reserved types are refused)`);
    }
  }
}

/**
 * UTF-8 bytes as a string, as the WHATWG decoder (TextDecoder) reads them: each maximal invalid subpart becomes one
 * U+FFFD, never an exception.
 */
export function utf8Decode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  // The common case, ASCII: short strings (names) char by char, long ones in chunks.
  while (i < bytes.length && bytes[i] < 0x80) i++;
  if (i < 64) for (let k = 0; k < i; k++) out += String.fromCharCode(bytes[k]);
  else for (let k = 0; k < i; k += 4096) out += String.fromCharCode(...bytes.subarray(k, Math.min(i, k + 4096)));
  if (i === bytes.length) return out;
  const units: number[] = [];
  let needed = 0;
  let seen = 0;
  let cp = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (; i < bytes.length; i++) {
    const b = bytes[i];
    if (needed === 0) {
      if (b < 0x80) units.push(b);
      else if (b >= 0xc2 && b <= 0xdf) [needed, cp] = [1, b & 0x1f];
      else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
        [needed, cp] = [2, b & 0x0f];
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
        [needed, cp] = [3, b & 0x07];
      } else units.push(0xfffd);
    } else if (b < lower || b > upper) {
      [needed, seen, cp, lower, upper] = [0, 0, 0, 0x80, 0xbf];
      units.push(0xfffd);
      i--; // the byte starts afresh
    } else {
      [lower, upper] = [0x80, 0xbf];
      cp = (cp << 6) | (b & 0x3f);
      if (++seen === needed) {
        if (cp >= 0x10000) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
        else units.push(cp);
        [needed, seen, cp] = [0, 0, 0];
      }
    }
    if (units.length >= 4096) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  if (needed !== 0) units.push(0xfffd);
  return out + String.fromCharCode(...units);
}

/** A string as UTF-8 bytes (lone surrogates become U+FFFD). */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return Uint8Array.from(out);
}

/**
 * A growable output buffer. Messages are written into a child writer first so their length prefix is known (the
 * nesting of what lazygrad writes is bounded by its own graphs' region depth).
 */
export class WireWriter {
  private buf: Uint8Array;
  private len = 0;

  /** `sizeHint`: the bytes expected, so a large model is not copied as the buffer grows. */
  constructor(sizeHint = 256) {
    this.buf = new Uint8Array(Math.max(16, sizeHint));
  }
  private readonly scratch = new DataView(new ArrayBuffer(8));
  private readonly scratchBytes = new Uint8Array(this.scratch.buffer);

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  /** An unsigned varint of up to 64 bits from its two 32-bit halves. */
  private varint64(lo: number, hi: number): void {
    this.reserve(10);
    while (hi !== 0 || lo > 0x7f) {
      this.buf[this.len++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.len++] = lo;
  }

  tag(field: number, wireType: number): void {
    this.varint64(((field << 3) | wireType) >>> 0, 0);
  }

  uint32(value: number): void {
    this.varint64(value >>> 0, 0);
  }

  /** An int32 or enum: negative values are written sign-extended to 10 bytes, as protobuf requires. */
  int32(value: number): void {
    this.varint64(value >>> 0, value < 0 ? 0xffffffff : 0);
  }

  /**
   * An int64 from an integer or a bigint (two's complement for negatives). Integers beyond int64's range (a double
   * 2^63 standing for INT64_MAX) are clamped to it; fractions and NaN are refused.
   */
  int64(value: number | bigint): void {
    if (typeof value === 'number' && !Number.isInteger(value))
      throw new GraphError(`an int64 field cannot hold ${value} (an integer is needed)`);
    let big = BigInt(value);
    if (big > INT64_MAX) big = INT64_MAX;
    if (big < INT64_MIN) big = INT64_MIN;
    const v = BigInt.asUintN(64, big);
    this.varint64(Number(v & 0xffffffffn), Number(v >> 32n));
  }

  float(value: number): void {
    this.reserve(4);
    this.scratch.setFloat32(0, value, true);
    this.buf.set(this.scratchBytes.subarray(0, 4), this.len);
    this.len += 4;
  }

  double(value: number): void {
    this.reserve(8);
    this.scratch.setFloat64(0, value, true);
    this.buf.set(this.scratchBytes, this.len);
    this.len += 8;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /** A string field's length and UTF-8 bytes (ASCII, the common case, without an intermediate array). */
  string(text: string): void {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) >= 0x80) {
        this.bytesField(utf8Encode(text));
        return;
      }
    }
    this.uint32(text.length);
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.len++] = text.charCodeAt(i);
  }

  /** A length-delimited field: its length, then its bytes. */
  bytesField(bytes: Uint8Array): void {
    this.uint32(bytes.length);
    this.raw(bytes);
  }

  /**
   * Starts a length-delimited field whose bytes are written next: room for the longest length is kept, and `end`
   * writes the length and moves the bytes back over the room not needed (no copy into a separate buffer).
   */
  begin(): number {
    this.reserve(5);
    const at = this.len;
    this.len += 5;
    return at;
  }

  end(at: number): void {
    const n = this.len - at - 5;
    let size = 1;
    for (let v = n; v > 0x7f; v >>>= 7) size++;
    if (size < 5) this.buf.copyWithin(at + size, at + 5, this.len);
    this.len -= 5 - size;
    let v = n;
    for (let i = 0; i < size; i++, v >>>= 7) this.buf[at + i] = i < size - 1 ? (v & 0x7f) | 0x80 : v;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
