import { OpRecord } from './record';

/** Joining, splitting, slicing, gathering and generating arrays. */
export const INDEXING_OPS: readonly OpRecord[] = [];
