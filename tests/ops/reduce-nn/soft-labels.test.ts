/**
 * softmaxCrossEntropyWithLogits with soft labels whose rows do not sum to 1: what the logits gradient is, checked
 * against finite differences in float64, and that docs/ops.md says exactly that (item 17 of issue 15).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Graph, NDArray, Session, gradients, softmaxCrossEntropyWithLogits, sum } from '../../../src';

const LOGITS = [0.3, -1.2, 2.0, 0.5];
const LABELS = [0.5, 0.25, 1.0, 0.25]; // the row sums to 2

function lossAndGradient(logits: number[]): { loss: number; grad: number[] } {
  const g = new Graph();
  const x = g.placeholder('logits', [1, 4], 'float64');
  const labels = g.constant(NDArray.from([LABELS], 'float64'));
  const loss = sum(softmaxCrossEntropyWithLogits(labels, x));
  const [dx] = gradients(loss, [x]);
  const sess = new Session(g);
  const [value, grad] = sess.run([loss, dx as NonNullable<typeof dx>], { logits: NDArray.from([logits], 'float64') });
  return { loss: value.data[0], grad: Array.from(grad.data) };
}

function softmaxOf(logits: number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

describe('softmaxCrossEntropyWithLogits with labels rows not summing to 1', () => {
  const p = softmaxOf(LOGITS);
  const rowSum = LABELS.reduce((a, b) => a + b, 0);

  test('the logits gradient is softmax − labels (as TensorFlow), not the derivative softmax·Σlabels − labels', () => {
    const { grad } = lossAndGradient(LOGITS);
    grad.forEach((v, i) => expect(v).toBeCloseTo(p[i] - LABELS[i], 12));
    // Finite differences of the loss give the true derivative, softmax·Σlabels − labels, which differs here.
    const h = 1e-6;
    const numeric = LOGITS.map((_, i) => {
      const up = [...LOGITS];
      const down = [...LOGITS];
      up[i] += h;
      down[i] -= h;
      return (lossAndGradient(up).loss - lossAndGradient(down).loss) / (2 * h);
    });
    numeric.forEach((v, i) => expect(v).toBeCloseTo(p[i] * rowSum - LABELS[i], 6));
    expect(Math.max(...numeric.map((v, i) => Math.abs(v - grad[i])))).toBeGreaterThan(0.1);
  });

  test('docs/ops.md states the rule next to the op, with the true derivative for other rows', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/ops.md'), 'utf8');
    const line = doc.indexOf('- `softmaxCrossEntropyWithLogits(labels, logits, axis = -1)`');
    expect(line).toBeGreaterThanOrEqual(0);
    const entry = doc.slice(line, doc.indexOf('\n- ', line + 1));
    expect(entry).toContain('sums to 1');
    expect(entry).toContain('softmax·Σlabels − labels');
  });
});
