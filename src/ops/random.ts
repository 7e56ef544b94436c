import { OpRecord } from './record';

/** Seeded random ops: stateful, never folded or merged. */
export const RANDOM_OPS: readonly OpRecord[] = [];
