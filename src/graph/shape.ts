/** A dimension is a size, or null when it is unknown until a value is fed. */
export type Dim = number | null;
/** A static shape: known rank, each dim known or null. */
export type Shape = readonly Dim[];

export function formatShape(shape: Shape | null): string {
  if (shape === null) return '<unknown rank>';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (let i = 0; i < shape.length; i++) size *= shape[i];
  return size;
}

export function isFullyKnown(shape: Shape): shape is readonly number[] {
  for (let i = 0; i < shape.length; i++) if (shape[i] === null) return false;
  return true;
}

/** Static NumPy broadcasting; null when the shapes cannot broadcast. Unknown dims stay unknown unless forced. */
export function broadcastStatic(a: Shape, b: Shape): Dim[] | null {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = new Array<Dim>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da === 1) out[i] = db;
    else if (db === 1) out[i] = da;
    else if (da === null) out[i] = db;
    else if (db === null) out[i] = da;
    else if (da === db) out[i] = da;
    else return null;
  }
  return out;
}

/** Whether a concrete shape fits a static one (same rank, equal where the static dim is known). */
export function shapeMatches(actual: readonly number[], expected: Shape): boolean {
  return actual.length === expected.length && expected.every((d, i) => d === null || d === actual[i]);
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Normalizes axis arguments (number, list, undefined = all) against a rank: sorted, unique, non-negative. */
export function normalizeAxes(axis: number | readonly number[] | undefined | null, rank: number): number[] | null {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  const out = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) return null;
    out.add(a < 0 ? a + rank : a);
  }
  return [...out].sort((x, y) => x - y);
}
