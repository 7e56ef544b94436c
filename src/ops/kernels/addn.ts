import type { Buf } from './types';
import { checkSize, shapeStr } from './util';

/** out = inputs[0] + inputs[1] + …, all of out's shape (addN does not broadcast, as in TensorFlow). */
export function addN(inputs: readonly Buf[], out: Buf): void {
  const n = checkSize('addN', out);
  for (const x of inputs) {
    if (x.data.length !== n) throw new Error(`addN: input ${shapeStr(x.shape)} vs output ${shapeStr(out.shape)}`);
  }
  const od = out.data;
  od.set(inputs[0].data);
  for (let k = 1; k < inputs.length; k++) {
    const xd = inputs[k].data;
    for (let i = 0; i < n; i++) od[i] += xd[i];
  }
}
