import { Graph, Session, Tensor, gradients } from '../src';

function seed() {
  const g = new Graph();
  const a = g.placeholder('a');
  const b = g.placeholder('b');
  const e = a.add(b).mul(b.add(1));
  return { g, a, b, e };
}

describe('what a session reports it got: sess.backend and sess.threads', () => {
  test('the default is the wasm backend on one thread', () => {
    const sess = new Session(seed().g);
    expect(sess.backend).toBe('wasm');
    expect(sess.threads).toBe(1);
  });

  test("backend 'js' runs one thread whatever threads asks", () => {
    const sess = new Session(seed().g, { backend: 'js', threads: 2 });
    expect(sess.backend).toBe('js');
    expect(sess.threads).toBe(1);
  });

  test('threads: 2 on wasm in Node really starts the helper worker, ready at once', async () => {
    const { g, a, b, e } = seed();
    const sess = new Session(g, { backend: 'wasm', threads: 2 });
    expect(sess.backend).toBe('wasm');
    expect(sess.threads).toBe(2);
    await expect(sess.ready()).resolves.toBe(2);
    const [value, da, db] = sess
      .run([e, ...(gradients(e, [a, b]) as Tensor[])], { a: 2, b: 1 })
      .map((x) => x.toArray());
    expect([value, da, db]).toEqual([6, 2, 5]);
  });

  test('ready() resolves at once to 1 for one thread and for the js backend', async () => {
    await expect(new Session(seed().g).ready()).resolves.toBe(1);
    await expect(new Session(seed().g, { backend: 'js' }).ready()).resolves.toBe(1);
  });
});
