// gradients(): one result per x, in order; Tensor | null, or Tensor with { unconnected: 'zero' }.
import { gradients, Graph, mul, sum, Tensor } from 'lazygrad';

const g = new Graph();
const w = g.variable('w', [1, 2, 3]);
const b = g.variable('b', 0.5);
const unused = g.variable('unused', 1);
const loss = sum(mul(w, b));

// Default: an x the ys do not depend on gets null, so each gradient is Tensor | null.
const [dw, db, dUnused] = gradients(loss, [w, b, unused]);
if (dw !== null && db !== null) dw.add(db);
const maybe: Tensor | null = dUnused;

// With { unconnected: 'zero' } every x gets a tensor (zeros where unconnected).
const [zw, zb, zUnused] = gradients(loss, [w, b, unused], undefined, { unconnected: 'zero' });
zw.add(zb).add(zUnused);

// A list built at run time gives a list of the same kind.
const xs: Tensor[] = [w, b];
const all: Tensor[] = gradients(loss, xs, undefined, { unconnected: 'zero', stopGradients: [] });
const some: (Tensor | null)[] = gradients([loss], xs);

// The types are tight:
// @ts-expect-error without unconnected: 'zero', a gradient may be null
dw.add(1);
// @ts-expect-error three xs, three gradients
const [, , , fourth] = gradients(loss, [w, b, unused], undefined, { unconnected: 'zero' });
// @ts-expect-error nulls are possible by default
const strict: Tensor[] = gradients(loss, xs);

export { maybe, all, some, fourth, strict };
