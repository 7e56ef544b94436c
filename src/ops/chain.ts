/**
 * Chainable tensor methods (`x.matMul(w).add(1).relu()`). The IR's Tensor class knows nothing of ops;
 * the methods are installed here, at the ops layer, so no import cycle runs from graph to ops.
 */
import { DType, Tensor } from '../graph';
import * as ew from './elementwise';
import { matMul } from './linalg';
import { broadcastTo, expandDims, reshape, squeeze, transpose } from './movement';
import { logSoftmax, softmax } from './nn';
import { TensorLike } from './record';
import { max, mean, sum } from './reduce';

declare module '../graph/graph' {
  interface Tensor {
    add(b: TensorLike): Tensor;
    sub(b: TensorLike): Tensor;
    mul(b: TensorLike): Tensor;
    div(b: TensorLike): Tensor;
    pow(exp: TensorLike): Tensor;
    equal(b: TensorLike): Tensor;
    greater(b: TensorLike): Tensor;
    neg(): Tensor;
    square(): Tensor;
    sqrt(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    identity(): Tensor;
    stopGradient(): Tensor;
    cast(dtype: DType): Tensor;
    zerosLike(): Tensor;
    onesLike(): Tensor;
    matMul(b: TensorLike, transposeA?: boolean, transposeB?: boolean): Tensor;
    sum(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    mean(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    max(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    reshape(shape: readonly number[]): Tensor;
    transpose(perm?: readonly number[]): Tensor;
    broadcastTo(shape: readonly number[]): Tensor;
    expandDims(axis?: number | readonly number[]): Tensor;
    squeeze(axis?: number | readonly number[]): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
  }
}

type Methods = { [K in keyof Tensor]?: Tensor[K] };

const methods: Methods = {
  add(this: Tensor, b: TensorLike) { return ew.add(this, b); },
  sub(this: Tensor, b: TensorLike) { return ew.sub(this, b); },
  mul(this: Tensor, b: TensorLike) { return ew.mul(this, b); },
  div(this: Tensor, b: TensorLike) { return ew.div(this, b); },
  pow(this: Tensor, e: TensorLike) { return ew.pow(this, e); },
  equal(this: Tensor, b: TensorLike) { return ew.equal(this, b); },
  greater(this: Tensor, b: TensorLike) { return ew.greater(this, b); },
  neg(this: Tensor) { return ew.neg(this); },
  square(this: Tensor) { return ew.square(this); },
  sqrt(this: Tensor) { return ew.sqrt(this); },
  exp(this: Tensor) { return ew.exp(this); },
  log(this: Tensor) { return ew.log(this); },
  sin(this: Tensor) { return ew.sin(this); },
  cos(this: Tensor) { return ew.cos(this); },
  tanh(this: Tensor) { return ew.tanh(this); },
  sigmoid(this: Tensor) { return ew.sigmoid(this); },
  relu(this: Tensor) { return ew.relu(this); },
  identity(this: Tensor) { return ew.identity(this); },
  stopGradient(this: Tensor) { return ew.stopGradient(this); },
  cast(this: Tensor, dtype: DType) { return ew.cast(this, dtype); },
  zerosLike(this: Tensor) { return ew.zerosLike(this); },
  onesLike(this: Tensor) { return ew.onesLike(this); },
  matMul(this: Tensor, b: TensorLike, ta?: boolean, tb?: boolean) { return matMul(this, b, ta, tb); },
  sum(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return sum(this, axis, keepDims); },
  mean(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return mean(this, axis, keepDims); },
  max(this: Tensor, axis?: number | readonly number[], keepDims?: boolean) { return max(this, axis, keepDims); },
  reshape(this: Tensor, shape: readonly number[]) { return reshape(this, shape); },
  transpose(this: Tensor, perm?: readonly number[]) { return transpose(this, perm); },
  broadcastTo(this: Tensor, shape: readonly number[]) { return broadcastTo(this, shape); },
  expandDims(this: Tensor, axis?: number | readonly number[]) { return expandDims(this, axis); },
  squeeze(this: Tensor, axis?: number | readonly number[]) { return squeeze(this, axis); },
  softmax(this: Tensor, dim?: number) { return softmax(this, dim); },
  logSoftmax(this: Tensor, axis?: number) { return logSoftmax(this, axis); },
}; // prettier-ignore

Object.assign(Tensor.prototype, methods);
