import {
  FunctionBody,
  I32,
  moduleOf,
  name,
  OP,
  section,
  SIMD,
  sleb,
  uleb,
  V128,
} from '../../src/backend/wasm/jit/encode';
import { webAssembly } from '../../src/backend/wasm/instance';

const WebAssembly = webAssembly() as NonNullable<ReturnType<typeof webAssembly>>;

describe('jit assembler: LEB128', () => {
  test('unsigned LEB128 matches hand-checked bytes', () => {
    expect(uleb(0)).toEqual([0x00]);
    expect(uleb(1)).toEqual([0x01]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(300)).toEqual([0xac, 0x02]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  test('signed LEB128 matches hand-checked bytes, sign bit of the last byte included', () => {
    expect(sleb(0)).toEqual([0x00]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(sleb(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(2 ** 31 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x07]);
    expect(sleb(-(2 ** 31))).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });

  test('values outside the encodings are refused', () => {
    expect(() => uleb(-1)).toThrow(RangeError);
    expect(() => uleb(1.5)).toThrow(RangeError);
    expect(() => sleb(2 ** 31)).toThrow(RangeError);
    expect(() => sleb(0.5)).toThrow(RangeError);
    expect(() => name('é')).toThrow(RangeError);
  });
});

describe('jit assembler: sections and modules', () => {
  test('a section is its id, its LEB128 size and its contents; a name is its length and ASCII bytes', () => {
    expect(section(7, [1, 2, 3])).toEqual([7, 3, 1, 2, 3]);
    expect(section(1, new Array(200).fill(0)).slice(0, 3)).toEqual([1, 0xc8, 0x01]);
    expect(name('env')).toEqual([3, 0x65, 0x6e, 0x76]);
  });

  test('SIMD opcodes take the 0xfd prefix and a LEB128 opcode (relaxed_madd is two bytes)', () => {
    expect(new FunctionBody([]).simd(SIMD.f32x4Add).bytes).toEqual([0xfd, 0xe4, 0x01]);
    expect(new FunctionBody([]).simd(SIMD.v128Load).bytes).toEqual([0xfd, 0x00]);
    expect(new FunctionBody([]).simd(SIMD.f32x4RelaxedMadd).bytes).toEqual([0xfd, 0x85, 0x02]);
    expect(new FunctionBody([]).simdMem(SIMD.v128Store, 4, 16).bytes).toEqual([0xfd, 0x0b, 0x04, 0x10]);
    const one = [0x00, 0x00, 0x80, 0x3f]; // 1.0f, little-endian
    expect(new FunctionBody([]).f32x4(1).bytes).toEqual([0xfd, 0x0c, ...one, ...one, ...one, ...one]);
  });

  test('the smallest module (one empty function of one i32 parameter) is byte for byte the hand-assembled one', () => {
    const bytes = moduleOf(new FunctionBody([I32]), 'run', { shared: false, maximumPages: 0 });
    // prettier-ignore
    expect([...bytes]).toEqual([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
      0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00, // type section: (func (param i32))
      0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x00, // env.memory
      0x03, 0x02, 0x01, 0x00, // function section: function 0 has type 0
      0x07, 0x07, 0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x00, // export "run" = function 0
      0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code: size 2, no locals, end
    ]);
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  test('a shared memory import declares flag 3 and the maximum, and validates', () => {
    const bytes = moduleOf(new FunctionBody([]), 'run', { shared: true, maximumPages: 65536 });
    const at = bytes.indexOf(0x02, 8 + 5); // the import section
    expect([...bytes.slice(at + 14, at + 19)]).toEqual([0x02, 0x03, 0x00, 0x80, 0x80]);
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  test('locals are declared in runs of one type, reused once released, and a built function runs', () => {
    const body = new FunctionBody([I32]);
    const a = body.local(V128);
    const b = body.local(V128);
    body.release(a);
    expect(body.local(V128)).toBe(a);
    expect(() => body.release(b, b)).toThrow(/twice/);
    body.scope(() => void body.local(I32));
    expect(body.localCount).toBe(3);
    // out[0..3] = 1.5 + 0.25 at the address in the parameter.
    body.get(0).f32x4(1.5).f32x4(0.25).simd(SIMD.f32x4Add).simdMem(SIMD.v128Store, 4);
    const bytes = moduleOf(body, 'run', { shared: false, maximumPages: 0 });
    expect(WebAssembly.validate(bytes)).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const run = instance.exports.run as (at: number) => void;
    run(32);
    expect([...new Float32Array(memory.buffer, 32, 5)]).toEqual([1.75, 1.75, 1.75, 1.75, 0]);
  });

  test('control flow and constants encode as the spec says', () => {
    const body = new FunctionBody([]);
    body.block().loop().i32(-2).op(OP.drop).br(1).end().end();
    expect(body.bytes).toEqual([0x02, 0x40, 0x03, 0x40, 0x41, 0x7e, 0x1a, 0x0c, 0x01, 0x0b, 0x0b]);
    expect(WebAssembly.validate(moduleOf(body, 'run', { shared: false, maximumPages: 0 }))).toBe(true);
  });
});
