import { GraphError } from '../graph';
import { COMPARE_OPS } from './compare';
import { CONTROL_OPS } from './control';
import { CONV_OPS } from './conv';
import { CONV3D_OPS } from './conv3d';
import { POOL3D_OPS } from './pool3d';
import { CUSTOM_OPS } from './custom';
import { ELEMENTWISE_OPS } from './elementwise';
import { makeFusedRecord } from './fused';
import { FUSED_MAT_MUL } from './fusedmatmul';
import { FUSED_CONV_OPS } from './fusedconv';
import { IMAGE_OPS } from './image';
import { INDEXING_OPS } from './indexing';
import { LINALG_OPS } from './linalg';
import { MOVEMENT_OPS } from './movement';
import { NN_OPS } from './nn';
import { NORMALIZATION_OPS } from './normalization';
import { ACTIVATION_OPS } from './activation';
import { RANDOM_OPS } from './random';
import { POOL_OPS } from './pool';
import { OpRecord } from './record';
import { REDUCE_OPS } from './reduce';
import { REMAT_OPS } from './remat';
import { RUNTIME_SHAPE_OPS } from './runtimeshape';
import { STATE_OPS } from './state';
import { UNARY_OPS } from './unary';

/** Leaves: created by Graph methods, valued by the session (feeds, constants, variable store). */
const LEAF_OPS: readonly OpRecord[] = ['placeholder', 'constant', 'variable'].map((name): OpRecord => ({
  name,
  arity: 0,
  stateful: name !== 'constant',
  // A variable may be marked untrainable; the JSON loader checks leaves' attrs against this.
  attrs: name === 'variable' ? { trainable: 'bool?' } : {},
  infer: () => {
    throw new GraphError(`${name} nodes are created by Graph.${name}(), not inferred`);
  },
}));

/** The record of fused groups; its steps name ops of this very table (their arity, inference and templates). */
export const FUSED = makeFusedRecord((op) => BY_NAME.get(op));

/** The one index of every op, by family: the whole op set in one place. */
export const OP_FAMILIES: { readonly [family: string]: readonly OpRecord[] } = {
  leaf: LEAF_OPS,
  elementwise: ELEMENTWISE_OPS,
  unary: UNARY_OPS,
  compare: COMPARE_OPS,
  movement: MOVEMENT_OPS,
  indexing: INDEXING_OPS,
  reduce: REDUCE_OPS,
  linalg: [...LINALG_OPS, FUSED_MAT_MUL],
  nn: NN_OPS,
  state: STATE_OPS,
  random: RANDOM_OPS,
  custom: CUSTOM_OPS,
  image: IMAGE_OPS,
  pool: POOL_OPS,
  normalization: NORMALIZATION_OPS,
  activation: ACTIVATION_OPS,
  fused: [FUSED],
  conv: CONV_OPS,
  fusedConv: FUSED_CONV_OPS,
  runtimeShape: RUNTIME_SHAPE_OPS,
  conv3d: CONV3D_OPS,
  pool3d: POOL3D_OPS,
  control: CONTROL_OPS,
  remat: REMAT_OPS,
};

const BY_NAME = new Map<string, OpRecord>();
for (const records of Object.values(OP_FAMILIES)) {
  for (const record of records) {
    if (BY_NAME.has(record.name)) throw new GraphError(`op '${record.name}' is defined twice`);
    BY_NAME.set(record.name, record);
  }
}

export function isLeafOp(op: string): boolean {
  return op === 'placeholder' || op === 'constant' || op === 'variable';
}

/** The record of an op by name; a GraphError for an unknown op. */
export function opRecord(op: string): OpRecord {
  const record = BY_NAME.get(op);
  if (record === undefined) throw new GraphError(`unknown op '${op}'`);
  return record;
}

export function allOps(): readonly OpRecord[] {
  return [...BY_NAME.values()];
}

/** Problems with op records (a non-leaf without a kernel): empty when every record is complete. */
export function checkRecords(): string[] {
  const problems: string[] = [];
  for (const record of BY_NAME.values()) {
    if (isLeafOp(record.name)) continue;
    if (record.kernel === undefined) problems.push(`${record.name}: no kernel`);
  }
  return problems;
}
