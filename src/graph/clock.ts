/** Milliseconds from a monotonic clock; `performance` exists in Node and browsers but not in the ES lib types. */
const clock = (globalThis as { performance?: { now(): number } }).performance;

export function now(): number {
  return clock !== undefined ? clock.now() : Date.now();
}
