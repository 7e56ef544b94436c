/**
 * The indexing family: joining, splitting, slicing, gathering, padding and generating arrays. The records and
 * builders live in one file per concern (concat, slice, gather, pad, onehot, generators); this file is the
 * family's table and its one import path.
 */
import { CONCAT, CONCAT_PART, STACK } from './concat';
import { GATHER, SCATTER_ADD } from './gather';
import { CUMSUM, ONE_HOT } from './onehot';
import { PAD, REVERSE, SUM_TILES, TILE } from './pad';
import { OpRecord } from './record';
import { SLICE, STRIDED_SLICE, STRIDED_SLICE_GRAD } from './slice';

export * from './concat';
export * from './gather';
export * from './generators';
export * from './onehot';
export * from './pad';
export * from './slice';

/** Joining, splitting, slicing, gathering and generating arrays. */
export const INDEXING_OPS: readonly OpRecord[] = [
  CONCAT, CONCAT_PART, STACK, SLICE, STRIDED_SLICE, STRIDED_SLICE_GRAD, GATHER, SCATTER_ADD,
  TILE, SUM_TILES, PAD, REVERSE, ONE_HOT, CUMSUM,
]; // prettier-ignore
