import { NDArray } from '../graph';
import { ArenaBlock, ArenaPlacement } from './placement';

/** A variable's first value in a run, committed to the store only if the run succeeds. */
interface Initialization {
  readonly value: NDArray;
  /** Its arena block (wasm backend), given back if the run fails. */
  readonly block: ArenaBlock | null;
}

/** A variable whose value moves into a new arena block once every allocation of the run is done. */
interface Move {
  readonly id: number;
  readonly block: ArenaBlock;
  readonly source: NDArray;
  readonly fresh: boolean;
}

/**
 * A session's variable values. With the wasm backend a value lives in its own block of the kernels' arena (wasm
 * kernels read it in place; an assign overwrites it in place); a view left stale by the arena's growth is re-taken
 * on access. Values are JS arrays with the JS backend, or when the arena is full.
 */
export class VariableStore {
  private readonly values = new Map<number, NDArray>();
  /** Variables whose value is a view of an arena block. */
  private readonly placed = new Map<number, ArenaBlock>();
  /** Values first read in the current run, and moves waiting for the run's allocations to finish. */
  private readonly pending = new Map<number, Initialization>();
  private moves: Move[] = [];
  /** Called with a variable's id whenever its value changes (a write, an exchange, a new value). */
  private readonly listeners: ((id: number) => void)[] = [];

  /** `owner`: the session; its variables' blocks go back to the arena when it is collected. */
  constructor(
    private readonly placement: ArenaPlacement | null,
    private readonly owner: object,
  ) {}

  /** The variables that have a value in this session (in the arena or in JS memory). */
  ids(): IterableIterator<number> {
    return this.values.keys();
  }

  /** Variables held in arena blocks. */
  get placedCount(): number {
    return this.placed.size;
  }

  /** A variable's value (its view re-taken if the arena's memory moved), or undefined if it has none yet. */
  get(id: number): NDArray | undefined {
    const value = this.values.get(id);
    const block = this.placed.get(id);
    if (value === undefined || block === undefined || this.placement === null || this.placement.holds(value.data)) {
      return value;
    }
    const fresh = this.placement.view(block, value.shape, value.dtype);
    this.values.set(id, fresh);
    return fresh;
  }

  /**
   * Registers a listener told the id of every variable whose value changes (a write in place, an exchange of blocks,
   * a new value): for anything that caches a variable's bytes (a packed copy of a weight) to drop its copy.
   */
  onWritten(listener: (id: number) => void): void {
    this.listeners.push(listener);
  }

  private written(id: number): void {
    for (const listener of this.listeners) listener(id);
  }

  /** Stores a value (taking ownership), giving back the arena block of the one it replaces. */
  set(id: number, value: NDArray): void {
    const block = this.placed.get(id);
    if (block !== undefined) {
      this.placed.delete(id);
      this.placement?.free(block);
    }
    this.values.set(id, value);
    this.written(id);
  }

  /** An assign's result after a successful run: an arena-held value of the same size is overwritten in place. */
  write(id: number, value: NDArray): void {
    const stored = this.values.get(id);
    if (stored !== undefined && stored.data === value.data)
      this.written(id); // computed in place (inplace.ts)
    else if (stored !== undefined && this.placed.has(id) && stored.data.length === value.data.length) {
      stored.data.set(value.data);
      this.written(id);
    } else this.set(id, value.clone());
  }

  /**
   * An assign's result during a run, once no later step of the run can fail (inplace.ts): a first value read in
   * this run becomes the variable's value now (the run will succeed), then the result is written like `write`.
   */
  writeEarly(id: number, value: NDArray): void {
    const first = this.pending.get(id);
    if (first !== undefined) {
      this.pending.delete(id);
      this.values.set(id, first.value);
      if (first.block !== null) this.placed.set(id, first.block);
    }
    this.write(id, value);
  }

  /**
   * An assign's result that lives in an arena block of its own (updates.ts): an arena-held variable of the same size
   * takes that block as its value (no copy) and its old block is returned, for the plan to write the next update
   * into. Otherwise the value is copied (`write`) and null is returned.
   */
  exchange(id: number, block: ArenaBlock, value: NDArray): ArenaBlock | null {
    const stored = this.values.get(id);
    const own = this.placed.get(id);
    const placement = this.placement;
    if (placement === null || stored === undefined || own === undefined || own.bytes !== block.bytes) {
      this.write(id, value);
      return null;
    }
    placement.transfer(block, this.owner);
    this.placed.set(id, block);
    this.values.set(id, placement.view(block, stored.shape, stored.dtype));
    this.written(id);
    return own;
  }

  /**
   * Before a run, the part that may grow the arena: a block for each variable it reads that is not in the arena yet
   * (its stored value moves there, or its initial value is copied there on first use). `settle` must follow once
   * every other allocation of the run is done.
   */
  reserve(ids: readonly number[], initialValue: (id: number) => NDArray): void {
    const placement = this.placement;
    if (placement === null) return;
    for (const id of ids) {
      if (this.placed.has(id) || this.moves.some((m) => m.id === id)) continue;
      const stored = this.values.get(id);
      const source = stored ?? initialValue(id);
      const block = placement.allocate(ArenaPlacement.bytes(source.shape, source.dtype), this.owner);
      if (block === null) continue; // the arena is full: this variable stays in JS memory
      this.moves.push({ id, block, source, fresh: stored === undefined });
    }
  }

  /** After the run's allocations (no more growth): re-take stale views, then carry out the reserved moves. */
  settle(): void {
    const placement = this.placement;
    if (placement === null) return;
    for (const id of this.placed.keys()) this.get(id);
    for (const { id, block, source, fresh } of this.moves) {
      const value = placement.view(block, source.shape, source.dtype);
      value.data.set(source.data);
      if (fresh) this.pending.set(id, { value, block });
      else {
        this.values.set(id, value);
        this.placed.set(id, block);
      }
    }
    this.moves = [];
  }

  /** The value a run reads for a variable: stored, or its initial value (a copy, pending until the run succeeds). */
  read(id: number, initialValue: (id: number) => NDArray): NDArray {
    const value = this.get(id) ?? this.pending.get(id)?.value;
    if (value !== undefined) return value;
    const copy = initialValue(id).clone();
    this.pending.set(id, { value: copy, block: null });
    return copy;
  }

  /** After a successful run: the first values read become the variables' values. */
  commit(): void {
    if (this.pending.size === 0) return;
    for (const [id, { value, block }] of this.pending) {
      this.values.set(id, value);
      if (block !== null) this.placed.set(id, block);
    }
    this.pending.clear();
  }

  /** After a failed run: first values are forgotten and their blocks given back (the run changed nothing). */
  abandon(): void {
    for (const { block } of this.pending.values()) if (block !== null) this.placement?.free(block);
    this.pending.clear();
    for (const { block } of this.moves) this.placement?.free(block);
    this.moves = [];
  }

  /** Copies every arena-held value into JS memory and gives the blocks back. */
  release(): void {
    for (const id of [...this.placed.keys()]) this.set(id, (this.get(id) as NDArray).clone());
  }
}
