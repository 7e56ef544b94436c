// Session.run: the result mirrors the fetch structure, with tuples for array literals.
import { gradients, Graph, matMul, NDArray, Session, sum, Tensor } from 'lazygrad';

const g = new Graph();
const x = g.placeholder('x', [null, 3]);
const w = g.variable('w', [[1], [2], [3]]);
const y = matMul(x, w);
const loss = sum(y);
const sess = new Session(g);
const feeds = { x: [[1, 2, 3]] };

// A tensor gives an NDArray.
const single: NDArray = sess.run(y, feeds);

// An array literal gives a tuple: each element is an NDArray, also under noUncheckedIndexedAccess.
const [yValue, lossValue] = sess.run([y, loss], feeds);
const total: number = yValue.data[0] ?? 0;
lossValue.toArray();

// Objects and nesting keep their keys and positions.
const [dw] = gradients(loss, [w]);
const out = sess.run({ loss, parts: [y, w] }, feeds);
out.parts[1].toArray();
const lossOnly: NDArray = out.loss;

// null fetches give null.
const nothing: null = sess.run(null, feeds);

// A list built at run time is an array of NDArrays.
const list: Tensor[] = [y, loss];
const values: NDArray[] = sess.run(list, feeds);

// The types are tight:
// @ts-expect-error the tuple has two elements
const [, , third] = sess.run([y, loss], feeds);
// @ts-expect-error a result is an NDArray, not a number
const wrong: number = sess.run(loss, feeds);
// @ts-expect-error the object has no key 'grads'
out.grads.toArray();
if (dw !== null) sess.run(dw, feeds);

export { single, total, lossOnly, nothing, values, third, wrong };
