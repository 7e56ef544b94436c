import { OpRecord } from './record';

/** Math and activation functions of one input (the core few — exp, log, tanh… — live in elementwise.ts). */
export const UNARY_OPS: readonly OpRecord[] = [];
