/**
 * The kernel contract. Kernels are plain functions over typed arrays and shapes: they know nothing of
 * graphs, nodes or tensors, so a kernel can be swapped (JS, wasm) without touching the layers above.
 * Every kernel writes into an output buffer the session allocated with the concrete output shape.
 */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A dense row-major array: the view a kernel sees of an NDArray. */
export interface Buf {
  readonly data: TypedArray;
  readonly shape: readonly number[];
}
