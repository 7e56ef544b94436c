import { OpRecord } from './record';

/** Comparisons and logic: bool results, no gradient. */
export const COMPARE_OPS: readonly OpRecord[] = [];
