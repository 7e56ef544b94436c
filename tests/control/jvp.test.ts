/**
 * Forward mode (jvp) through cond, whileLoop and scan: tangents against the jvp of the same computation unrolled by
 * hand and against central finite differences in float64, on both backends; the jvp of a construct is one construct
 * of the same kind per sibling group, with no tangent inputs for values without a tangent; nested control flow, the
 * tangents of `stack:i` siblings, and jvp of jvp.
 */
import {
  add,
  cast,
  cond,
  controlGroupKey,
  controlSibling,
  gather,
  Graph,
  gradients,
  greater,
  jacobian,
  jvp,
  less,
  loadGraph,
  matMul,
  mul,
  NDArray,
  neg,
  reshape,
  scan,
  serializeGraph,
  Session,
  sin,
  sum,
  tanh,
  Tensor,
  whileLoop,
} from '../../src';

const BACKENDS = ['js', 'wasm'] as const;
type Backend = (typeof BACKENDS)[number];

function close(actual: NDArray, expected: NDArray, tol: number, what = ''): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = Array.from(actual.data);
  const e = Array.from(expected.data);
  a.forEach((v, i) => {
    if (!(Math.abs(v - e[i]) <= tol * (1 + Math.abs(e[i])))) {
      throw new Error(`${what}[${i}]: ${v} vs ${e[i]} (tolerance ${tol})`);
    }
  });
}

/** A pseudo-random float64 array of a shape, fixed by its seed (a linear congruential generator). */
function values(shape: number[], seed: number, scale = 1): NDArray {
  let state = seed * 7919 + 17;
  const size = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: size }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state / 2147483648 - 0.5) * 2 * scale;
  });
  return new NDArray(Float64Array.from(data), shape, 'float64');
}

interface Case {
  graph: Graph;
  /** The float64 placeholders differentiated with respect to. */
  inputs: Tensor[];
  /** Outputs through control flow, and the same outputs computed unrolled by hand. */
  ys: Tensor[];
  hand: Tensor[];
  /** Other feeds (predicates, counts). */
  feeds?: Record<string, NDArray>;
  /** False where finite differences do not apply (a stopGradient in the path). */
  finiteDifferences?: boolean;
}

/**
 * Checks jvp(ys) along random tangents (fed through placeholders) against jvp(hand) and against central differences
 * of ys; returns the tangents' tensors for further checks.
 */
let verified = 0;

function verify(backend: Backend, c: Case, seed = 1, tol = 1e-7): Tensor[] {
  const { graph: g, inputs } = c;
  const tangentInputs = inputs.map((x) => g.placeholder(`tangent_${x.name}_${verified++}`, x.shape, 'float64'));
  const dys = jvp(c.ys, inputs, tangentInputs);
  const dHand = jvp(c.hand, inputs, tangentInputs);
  const at: Record<string, NDArray> = { ...(c.feeds ?? {}) };
  // Placeholders not differentiated (and not fed by the case) get fixed values.
  g.placeholders().forEach((p, k) => {
    if (at[p.name] === undefined && p.dtype === 'float64') at[p.name] = values(p.shape as number[], seed + 200 + k);
  });
  const directions: NDArray[] = [];
  inputs.forEach((x, k) => {
    at[x.name] = values(x.shape as number[], seed + k);
    directions.push(values(x.shape as number[], seed + 100 + k));
    at[tangentInputs[k].name] = directions[k];
  });
  const sess = new Session(g, { backend });
  const r = sess.run({ dys, dHand, ys: c.ys, hand: c.hand }, at);
  c.ys.forEach((_, i) => {
    close(r.ys[i], r.hand[i], 1e-12, `value ${i}`);
    close(r.dys[i], r.dHand[i], 1e-12, `tangent ${i} vs unrolled`);
  });
  if (c.finiteDifferences === false) return dys;
  const eps = 1e-6;
  const shifted = (sign: number): NDArray[] => {
    const feeds = { ...at };
    inputs.forEach((x, k) => {
      const base = at[x.name];
      const data = Float64Array.from(base.data, (v, i) => v + sign * eps * directions[k].data[i]);
      feeds[x.name] = new NDArray(data, base.shape, 'float64');
    });
    return sess.run(c.ys, feeds);
  };
  const plus = shifted(1);
  const minus = shifted(-1);
  c.ys.forEach((_, i) => {
    const fd = Float64Array.from(plus[i].data, (v, j) => (v - minus[i].data[j]) / (2 * eps));
    close(r.dys[i], new NDArray(fd, plus[i].shape, 'float64'), tol, `tangent ${i} vs finite differences`);
  });
  return dys;
}

/** The constructs (distinct sibling groups) of an op that a jvp added: nodes with ids above `from`. */
function groupsAbove(g: Graph, op: string, from: number): string[] {
  const keys = new Set<string>();
  for (const node of g.nodes) if (node.id > from && node.op === op) keys.add(controlGroupKey(node));
  return [...keys];
}

function rnn(g: Graph, reverse: boolean) {
  const w = g.placeholder('w', [2, 2], 'float64');
  const u = g.placeholder('u', [2, 2], 'float64');
  const xs = g.placeholder('xs', [4, 1, 2], 'float64');
  const h0 = g.placeholder('h0', [1, 2], 'float64');
  const step = (h: Tensor, x: Tensor): Tensor => tanh(add(matMul(x, w), matMul(h, u)));
  const [last, ys] = scan((h: Tensor, x: Tensor) => [step(h, x), sin(step(h, x))] as const, h0, xs, { reverse });
  const rows = [0, 1, 2, 3].map((t) => reshape(gather(xs, g.constant([t], 'int32')), [1, 2]));
  let h = h0;
  const hs: Tensor[] = [];
  for (const t of reverse ? [3, 2, 1, 0] : [0, 1, 2, 3]) hs[t] = sin((h = step(h, rows[t])));
  return { w, u, xs, h0, last, ys, handLast: h, handYs: reshape(hs[0].concat(hs.slice(1), 0), [4, 1, 2]) };
}

describe.each(BACKENDS)('%s backend', (backend) => {
  test('scan: tangents of the last carry and the ys match the unrolled RNN and finite differences', () => {
    for (const reverse of [false, true]) {
      const g = new Graph();
      const m = rnn(g, reverse);
      verify(backend, { graph: g, inputs: [m.w, m.u, m.xs, m.h0], ys: [m.last, m.ys], hand: [m.handLast, m.handYs] });
    }
  });

  test('scan: the tangent of a captured weight alone starts the tangent carry at zeros, with no tangent xs', () => {
    const g = new Graph();
    const m = rnn(g, false);
    const before = g.size - 1;
    verify(backend, { graph: g, inputs: [m.w], ys: [m.last, m.ys], hand: [m.handLast, m.handYs] });
    const groups = groupsAbove(g, 'scan', before);
    expect(groups).toHaveLength(1); // carry and ys tangents: one scan
    const node = g.nodes.find((n) => n.id > before && n.op === 'scan') as (typeof g.nodes)[number];
    expect(node.attrs.carries).toBe(2); // h and its tangent
    expect(node.attrs.xs).toBe(1); // xs has no tangent: no zero array is scanned for it
    expect(g.node(node.inputs[1]).op).toBe('zerosLike');
  });

  test('scan: array carries, an int counter without tangent, no ys, a length instead of xs', () => {
    const g = new Graph();
    const a = g.placeholder('a', [], 'float64');
    const b = g.placeholder('b', [], 'float64');
    const [[p, q, k]] = scan(
      ([p, q, k]: Tensor[]) => [[add(p, mul(q, b)), sin(p), add(k, 1)], null] as const,
      [a, g.constant(0.5, 'float64'), g.constant(0, 'int32')],
      null,
      { length: 6 },
    );
    let hp: Tensor = a;
    let hq: Tensor = g.constant(0.5, 'float64');
    for (let t = 0; t < 6; t++) [hp, hq] = [add(hp, mul(hq, b)), sin(hp)];
    verify(backend, { graph: g, inputs: [a, b], ys: [p, q], hand: [hp, hq] });
    expect(jvp(k, [a], [1])[0].op).toBe('zerosLike');
  });

  test('cond: the tangent of the taken branch, captures with and without tangents, zeros where a branch has none', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const w = g.placeholder('w', [], 'float64');
    const c = g.placeholder('c', [3], 'float64');
    const p = g.placeholder('p', [], 'bool');
    const [y0, y1] = cond(
      p,
      () => [mul(sin(x), w), add(c, w)],
      () => [mul(x, 2), mul(x, c)],
    );
    for (const taken of [true, false]) {
      const hand = taken ? [mul(sin(x), w), add(c, w)] : [mul(x, 2), mul(x, c)];
      verify(backend, {
        graph: g,
        inputs: [x, w],
        ys: [y0, y1],
        hand,
        feeds: { p: NDArray.from(taken, 'bool'), c: values([3], 9) },
      });
    }
  });

  test('cond on a predicate computed from the differentiated input', () => {
    const g = new Graph();
    const x = g.placeholder('x', [3], 'float64');
    const y = cond(
      greater(sum(x), 0),
      () => tanh(mul(x, x)),
      () => neg(sin(x)),
    );
    // The seeds give sum(x) of both signs.
    for (const seed of [1, 4]) {
      const g2 = g;
      const handTrue = tanh(mul(x, x));
      const handFalse = neg(sin(x));
      const sess = new Session(g2, { backend });
      const sign = sess.run(sum(x), { x: values([3], seed) }).data[0] > 0;
      verify(backend, { graph: g, inputs: [x], ys: [y], hand: [sign ? handTrue : handFalse] }, seed);
    }
  });

  test('whileLoop: tangents of loop variables and captures match the unrolled loop and finite differences', () => {
    const g = new Graph();
    const acc0 = g.placeholder('acc0', [2], 'float64');
    const w = g.placeholder('w', [], 'float64');
    const x = g.placeholder('x', [2], 'float64');
    const n = g.placeholder('n', [], 'int32');
    const [, acc] = whileLoop(
      ([i]) => less(i, n),
      ([i, a]) => [add(i, 1), add(mul(a, w), sin(x))],
      [g.constant(0, 'int32'), acc0],
    );
    let hand: Tensor = acc0;
    for (let i = 0; i < 3; i++) hand = add(mul(hand, w), sin(x));
    const before = g.size - 1;
    verify(backend, {
      graph: g,
      inputs: [acc0, w, x],
      ys: [acc],
      hand: [hand],
      feeds: { n: NDArray.from(3, 'int32') },
    });
    expect(groupsAbove(g, 'while', before)).toHaveLength(1);
  });

  test('whileLoop: a variable without a tangent that the body makes depend on one starts at zeros', () => {
    const g = new Graph();
    const w = g.placeholder('w', [], 'float64');
    const [, a, b] = whileLoop(
      ([i]) => less(i, 4),
      ([i, a, b]) => [add(i, 1), add(b, w), mul(a, 0.5)],
      [g.constant(0, 'int32'), g.constant(1, 'float64'), g.constant(2, 'float64')],
      { maximumIterations: 4 },
    );
    let ha: Tensor = g.constant(1, 'float64');
    let hb: Tensor = g.constant(2, 'float64');
    for (let i = 0; i < 4; i++) [ha, hb] = [add(hb, w), mul(ha, 0.5)];
    verify(backend, { graph: g, inputs: [w], ys: [a, b], hand: [ha, hb] });
  });

  test('nested: a cond inside a scan inside a whileLoop, with a captured weight', () => {
    const g = new Graph();
    const xs = g.placeholder('xs', [5], 'float64');
    const w = g.placeholder('w', [], 'float64');
    const [, total] = whileLoop(
      ([k]) => less(k, 3),
      ([k, t]) => {
        const [s] = scan(
          (c: Tensor, x: Tensor) =>
            [
              add(
                mul(c, w),
                cond(
                  greater(x, 0),
                  () => mul(sin(x), cast(k, 'float64')),
                  () => mul(x, w),
                ),
              ),
              null,
            ] as const,
          t,
          xs,
        );
        return [add(k, 1), s];
      },
      [g.constant(0, 'int32'), g.constant(0.25, 'float64')],
      { maximumIterations: 5 },
    );
    // By hand, with the signs of the fed xs (seed 1) known.
    const xv = values([5], 1);
    let t: Tensor = g.constant(0.25, 'float64');
    for (let k = 0; k < 3; k++) {
      for (let j = 0; j < 5; j++) {
        const x = reshape(gather(xs, g.constant([j], 'int32')), []);
        t = add(mul(t, w), xv.data[j] > 0 ? mul(sin(x), k) : mul(x, w));
      }
    }
    verify(backend, { graph: g, inputs: [xs, w], ys: [total], hand: [t] });
  });

  test('jvp of jvp through a scan: second derivatives match the unrolled graph and finite differences', () => {
    const g = new Graph();
    const w = g.placeholder('w', [], 'float64');
    const xs = g.placeholder('xs', [5, 2], 'float64');
    const h0 = g.constant([0.1, -0.2], 'float64');
    const [last] = scan((h: Tensor, x: Tensor) => [tanh(add(mul(h, w), x)), null] as const, h0, xs);
    let hand: Tensor = h0;
    for (let t = 0; t < 5; t++) hand = tanh(add(mul(hand, w), reshape(gather(xs, g.constant([t], 'int32')), [2])));
    const [first] = jvp(last, [w], [1]);
    const [firstHand] = jvp(hand, [w], [1]);
    verify(backend, { graph: g, inputs: [w, xs], ys: [first], hand: [firstHand] }, 3, 1e-6);
  });

  test('the tangent of a stack:i sibling (a body value at every step) is the stack of its tangents', () => {
    const g = new Graph();
    const w = g.placeholder('w', [], 'float64');
    const xs = g.placeholder('xs', [4, 2], 'float64');
    const [last] = scan(
      (h: Tensor, x: Tensor) => [sin(add(mul(tanh(h), w), x)), null] as const,
      xs.slice([0, 0], [1, 2]).reshape([2]),
      xs,
    );
    const node = g.node(last.id);
    const index = (node.attrs.body as { nodes: { op: string }[] }).nodes.findIndex((n) => n.op === 'tanh');
    const stacked = controlSibling(g, node, `stack:${index}`);
    let h: Tensor = xs.slice([0, 0], [1, 2]).reshape([2]);
    const rows: Tensor[] = [];
    for (let t = 0; t < 4; t++) {
      rows.push(reshape(tanh(h), [1, 2]));
      h = sin(add(mul(tanh(h), w), reshape(gather(xs, g.constant([t], 'int32')), [2])));
    }
    const hand = rows.slice(1).reduce((a, r) => a.concat(r, 0), rows[0]);
    verify(backend, { graph: g, inputs: [w, xs], ys: [stacked, last], hand: [hand, h] });
  });

  test('the tangent of a whileLoop stack:i sibling, rows past the count zero', () => {
    const g = new Graph();
    const w = g.placeholder('w', [], 'float64');
    const a0 = g.placeholder('a0', [2], 'float64');
    const [, a] = whileLoop(
      ([i]) => less(i, 3),
      ([i, a]) => [add(i, 1), mul(sin(a), w)],
      [g.constant(0, 'int32'), a0],
      { maximumIterations: 5 },
    );
    const node = g.node(a.id);
    const index = (node.attrs.body as { nodes: { op: string }[] }).nodes.findIndex((n) => n.op === 'sin');
    const stacked = controlSibling(g, node, `stack:${index}`);
    let h: Tensor = a0;
    const rows: Tensor[] = [];
    for (let t = 0; t < 3; t++) {
      rows.push(reshape(sin(h), [1, 2]));
      h = mul(sin(h), w);
    }
    rows.push(reshape(mul(a0, 0), [1, 2]), reshape(mul(a0, 0), [1, 2]));
    const hand = rows.slice(1).reduce((acc, r) => acc.concat(r, 0), rows[0]);
    verify(backend, { graph: g, inputs: [w, a0], ys: [stacked, a], hand: [hand, h] });
  });

  test('stacked tangents that the carried tangents do not reach: an extra ys of the scan, an extra var of the loop', () => {
    const g = new Graph();
    const w = g.placeholder('w', [], 'float64');
    const h0 = g.placeholder('h0', [2], 'float64');
    // stopGradient cuts the body value's tangent off from the carry's: only a stack of it can ask for it.
    const cell = (h: Tensor): [Tensor, Tensor] => {
      const inner = mul(tanh(h), w);
      return [add(sin(h), inner.stopGradient()), inner];
    };
    const [last] = scan((h: Tensor) => [cell(h)[0], null] as const, h0, null, { length: 3 });
    const [, final] = whileLoop(
      ([i]) => less(i, 3),
      ([i, h]) => [add(i, 1), cell(h)[0]],
      [g.constant(0, 'int32'), h0],
      { maximumIterations: 4 },
    );
    const stackOf = (t: Tensor) => {
      const node = g.node(t.id);
      const index = (node.attrs.body as { nodes: { op: string }[] }).nodes.findIndex((n) => n.op === 'mul');
      return controlSibling(g, node, `stack:${index}`);
    };
    let h: Tensor = h0;
    const rows: Tensor[] = [];
    for (let t = 0; t < 3; t++) {
      const [next, inner] = cell(h);
      rows.push(reshape(inner, [1, 2]));
      h = next;
    }
    const hand = rows.slice(1).reduce((acc, r) => acc.concat(r, 0), rows[0]);
    const handWhile = hand.concat(reshape(mul(h0, 0), [1, 2]), 0);
    const stacks = [stackOf(last), stackOf(final)];
    const before = g.size - 1;
    verify(backend, {
      graph: g,
      inputs: [w, h0],
      ys: [stacks[0], last, stacks[1], final],
      hand: [hand, h, handWhile, h],
      finiteDifferences: false,
    });
    const scanNode = g.nodes.find((n) => n.id > before && n.op === 'scan') as (typeof g.nodes)[number];
    const whileNode = g.nodes.find((n) => n.id > before && n.op === 'while') as (typeof g.nodes)[number];
    expect((scanNode.attrs.body as { outputs: number[] }).outputs).toHaveLength(3); // carry, its tangent, the extra ys
    expect((whileNode.attrs.body as { outputs: number[] }).outputs).toHaveLength(4); // i, h, h's tangent, the extra
  });

  test('a jvp graph through control flow survives the JSON format', () => {
    const g = new Graph();
    const m = rnn(g, true);
    const [dl] = jvp(m.last, [m.w], [values([2, 2], 5)]);
    const loaded = loadGraph(serializeGraph(g));
    const feeds = { w: values([2, 2], 1), u: values([2, 2], 2), xs: values([4, 1, 2], 3), h0: values([1, 2], 4) };
    const a = new Session(g, { backend }).run(dl, feeds);
    const b = new Session(loaded, { backend }).run(loaded.tensor(dl.id), feeds);
    close(b, a, 0);
  });
});

test('a y that needs no construct leaves it alone: later jvp calls do not differentiate earlier jvp constructs', () => {
  const g = new Graph();
  const w = g.placeholder('w', [], 'float64');
  const xs = g.placeholder('xs', [3], 'float64');
  const [last] = scan((h: Tensor, x: Tensor) => [mul(add(h, x), w), null] as const, g.constant(1, 'float64'), xs);
  const before = g.size - 1;
  jvp(last, [w], [1]);
  jvp(mul(w, 3), [w], [1]);
  jvp(last, [w], [2]);
  // Each jvp of `last` adds one scan (their tangents differ); the jvp of mul(w, 3) adds none; none differentiates an
  // earlier jvp's scan (which would make a third and fourth).
  expect(groupsAbove(g, 'scan', before)).toHaveLength(2);
});

describe.each(BACKENDS)('forward over reverse and reverse over forward (%s backend)', (backend) => {
  /** An RNN loss through a scan, a cond and a whileLoop, and the same loss unrolled by hand. */
  function losses(g: Graph) {
    const w = g.placeholder('w', [2, 2], 'float64');
    const xs = g.placeholder('xs', [3, 1, 2], 'float64');
    const h0 = g.placeholder('h0', [1, 2], 'float64');
    const step = (h: Tensor, x: Tensor): Tensor => tanh(add(matMul(x, w), matMul(h, w)));
    const [last, ys] = scan((h: Tensor, x: Tensor) => [step(h, x), sin(step(h, x))] as const, h0, xs);
    const [, scaled] = whileLoop(
      ([i]) => less(i, 2),
      ([i, a]) => [add(i, 1), mul(sin(a), sum(w))],
      [g.constant(0, 'int32'), last],
      { maximumIterations: 3 },
    );
    const branch = cond(
      greater(sum(h0), 0),
      () => mul(scaled, scaled),
      () => tanh(scaled),
    );
    const loss = add(sum(ys), sum(branch));
    let h = h0;
    let ysHand: Tensor = g.constant(0, 'float64');
    for (let t = 0; t < 3; t++) {
      h = step(h, reshape(gather(xs, g.constant([t], 'int32')), [1, 2]));
      ysHand = add(ysHand, sum(sin(h)));
    }
    let a = h;
    for (let i = 0; i < 2; i++) a = mul(sin(a), sum(w));
    return { w, xs, h0, loss, a, hand: (positive: boolean) => add(ysHand, sum(positive ? mul(a, a) : tanh(a))) };
  }

  test('Hessian-vector products (jvp of gradients) match the unrolled graph and finite differences', () => {
    for (const seed of [1, 2]) {
      const g = new Graph();
      const m = losses(g);
      const positive = new Session(g, { backend }).run(sum(m.h0), { h0: values([1, 2], seed + 2) }).data[0] > 0;
      const [grad] = gradients(m.loss, [m.w]) as Tensor[];
      const [gradHand] = gradients(m.hand(positive), [m.w]) as Tensor[];
      verify(backend, { graph: g, inputs: [m.w, m.xs, m.h0], ys: [grad], hand: [gradHand] }, seed, 1e-6);
    }
  });

  test('gradients of a jvp through control flow (reverse over forward) match the unrolled graph', () => {
    const g = new Graph();
    const m = losses(g);
    const v = g.placeholder('v', [2, 2], 'float64');
    const positive = true;
    const [dLoss] = jvp(m.loss, [m.w], [v]);
    const [dHand] = jvp(m.hand(positive), [m.w], [v]);
    const [gw, gxs] = gradients(dLoss, [m.w, m.xs]) as Tensor[];
    const [hw, hxs] = gradients(dHand, [m.w, m.xs]) as Tensor[];
    const feeds = {
      w: values([2, 2], 1),
      xs: values([3, 1, 2], 2),
      h0: NDArray.from([[0.3, 0.1]], 'float64'),
      v: values([2, 2], 4),
    };
    const r = new Session(g, { backend }).run({ gw, gxs, hw, hxs }, feeds);
    close(r.gw, r.hw, 1e-12, 'w');
    close(r.gxs, r.hxs, 1e-12, 'xs');
  });
});

describe('structure', () => {
  function rnnOfLength(steps: number): { added: number; groups: number } {
    const g = new Graph();
    const w = g.placeholder('w', [3, 3], 'float64');
    const xs = g.placeholder('xs', [steps, 1, 3], 'float64');
    const [last, ys] = scan(
      (h: Tensor, x: Tensor) => [tanh(add(matMul(h, w), x)), sin(h)] as const,
      g.constant([[0, 0, 0]], 'float64'),
      xs,
    );
    const before = g.size;
    jvp([last, ys], [w, xs], [values([3, 3], 1), values([steps, 1, 3], 2)]);
    return { added: g.size - before, groups: groupsAbove(g, 'scan', before - 1).length };
  }

  test('the jvp graph of a scan has the same size for any number of steps', () => {
    const short = rnnOfLength(5);
    const long = rnnOfLength(500);
    expect(long.added).toBe(short.added);
    expect(short.groups).toBe(1);
  });

  test('forward and reverse mode agree through a scan: jvp along one-hot tangents gives the Jacobian columns', () => {
    const g = new Graph();
    const w = g.placeholder('w', [2], 'float64');
    const xs = g.constant(
      [
        [0.5, -1],
        [2, 0.25],
        [-0.3, 0.7],
      ],
      'float64',
    );
    const [last] = scan((h: Tensor, x: Tensor) => [sin(add(mul(h, w), x)), null] as const, w, xs);
    const columns = [0, 1].map((k) => jvp(last, [w], [k === 0 ? [1, 0] : [0, 1]])[0]);
    const rows = jacobian(last, w);
    const r = new Session(g).run({ columns, rows }, { w: NDArray.from([0.4, -0.9], 'float64') });
    for (let i = 0; i < 2; i++)
      for (let k = 0; k < 2; k++) {
        expect(r.columns[k].data[i]).toBeCloseTo(r.rows.data[i * 2 + k], 12);
      }
  });

  test('jvp called inside a scan body differentiates a cond built in that body', () => {
    const g = new Graph();
    const w = g.placeholder('w', [], 'float64');
    const xs = g.placeholder('xs', [4], 'float64');
    // Each step adds d/dx of (x > 0 ? sin(x·w) : x²) at its x: w·cos(x·w) or 2x.
    const [total] = scan(
      (c: Tensor, x: Tensor) => {
        const y = cond(
          greater(x, 0),
          () => sin(mul(x, w)),
          () => mul(x, x),
        );
        return [add(c, jvp(y, [x], [1])[0]), null] as const;
      },
      g.constant(0, 'float64'),
      xs,
    );
    const xv = [0.5, -2, 1.5, -0.25];
    const wv = 0.8;
    const expected = xv.reduce((acc, x) => acc + (x > 0 ? wv * Math.cos(x * wv) : 2 * x), 0);
    const r = new Session(g).run(total, { w: NDArray.from(wv, 'float64'), xs: NDArray.from(xv, 'float64') });
    expect(r.data[0]).toBeCloseTo(expected, 12);
  });

  test('the jvp loop keeps maximumIterations: past it is the same RuntimeError', () => {
    const g = new Graph();
    const w = g.placeholder('w', [], 'float64');
    const n = g.placeholder('n', [], 'int32');
    const [, a] = whileLoop(
      ([i]) => less(i, n),
      ([i, a]) => [add(i, 1), mul(a, w)],
      [g.constant(0, 'int32'), g.constant(1, 'float64')],
      { maximumIterations: 3, name: 'power' },
    );
    const [da] = jvp(a, [w], [1]);
    const sess = new Session(g);
    const feeds = (k: number) => ({ w: NDArray.from(2, 'float64'), n: NDArray.from(k, 'int32') });
    expect(sess.run(da, feeds(3)).data[0]).toBe(12); // d/dw w³ = 3w²
    expect(() => sess.run(da, feeds(4))).toThrow(/power.*maximumIterations = 3/);
  });
});
