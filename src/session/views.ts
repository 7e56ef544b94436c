/**
 * Zero-copy results (`sess.run(fetches, feeds, { copy: false })`): a fetched value is handed out as a view of the
 * plan's buffer it was computed in (the wasm arena on the wasm backend) instead of a fresh copy. A view is valid until
 * the session's next run or `dispose()`: the next run writes its buffers again. Reading `data` after that throws a
 * RuntimeError instead of showing another run's numbers, and a view left detached by the arena's growth (another
 * session's allocation) is re-taken from its offset, so it never reads as empty.
 */
import { NDArray, RuntimeError, TypedArray } from '../graph';
import { typedView } from './memory';
import type { ArenaPlacement } from './placement';

/** What a view checks on each read: the session's run counter now and when the view was made. */
export interface RunClock {
  readonly runs: number;
}

const STALE =
  'Session.run: this result of a run with { copy: false } is a view of the session’s buffers, valid until the ' +
  'session’s next run or dispose(), and the session has run since (which wrote over it); call clone() on it ' +
  'before running again, or run without { copy: false } to get copies';

/** Each guarded view's session clock: a run fed one of its own session's views copies it first (ownView). */
const owners = new WeakMap<NDArray, RunClock>();

/**
 * Whether `value` is a `{ copy: false }` result of the session whose clock is `clock`. Fed back into that session's
 * next run, such a view must be copied before the run starts: the run moves the clock (which would make the view
 * read as stale) and may write the very buffer the view shows before it reads the feed.
 */
export function ownView(value: NDArray, clock: RunClock): boolean {
  return owners.get(value) === clock;
}

/** Replaces each fed value that is a view handed out by the session of `clock` with a copy of it (read now). */
export function copyOwnViews(fed: Map<number, NDArray>, clock: RunClock): void {
  for (const [id, value] of fed) if (ownView(value, clock)) fed.set(id, value.clone());
}

/**
 * A new NDArray over `planned` (a view of a planned buffer) that checks, on every read of its `data`, that `clock` has not moved since
 * `runs`, and re-take its view from the arena's current memory when a growth detached it.
 */
export function guardView(planned: NDArray, clock: RunClock, placement: ArenaPlacement | null): NDArray {
  const runs = clock.runs;
  let data: TypedArray = planned.data;
  // A new NDArray over the same memory: the plan's own view object is written again by every run.
  const value = new NDArray(data, planned.shape, planned.dtype);
  const inArena = placement !== null && placement.holds(data);
  const offset = data.byteOffset;
  const length = data.length;
  owners.set(value, clock);
  Object.defineProperty(value, 'data', {
    configurable: false,
    enumerable: true,
    get(): TypedArray {
      if (clock.runs !== runs) throw new RuntimeError(STALE);
      if (inArena && !(placement as ArenaPlacement).holds(data)) {
        data = typedView(value.dtype, (placement as ArenaPlacement).arena.memory.buffer, offset, length);
      }
      return data;
    },
  });
  return value;
}
