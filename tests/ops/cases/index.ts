/**
 * The op test table: every row of every family, read by the shared suites in ../suites. Adding an op means one
 * record in src/ops and one row here (or one line in COVERED_ELSEWHERE saying why it needs none).
 */
import { ELEMENTWISE_ROWS } from './elementwise';
import { LINALG_NN_ROWS } from './linalg-nn';
import { MOVEMENT_ROWS } from './movement';
import { REDUCE_ROWS } from './reduce';
import { Case, OpRow, rowName, seedOf } from './table';

export type { OpRow, Case } from './table';

export const OP_ROWS: readonly OpRow[] = [...ELEMENTWISE_ROWS, ...REDUCE_ROWS, ...LINALG_NN_ROWS, ...MOVEMENT_ROWS];

type Check = 'forward' | 'gradFd' | 'gradTfjs' | 'secondOrder';

/** The (row, case) pairs of one check, with a name for the test and a seed stable under edits of other rows. */
export function casesOf(check: Check): { name: string; row: OpRow; c: Case; seed: number }[] {
  return OP_ROWS.flatMap((row) =>
    (row[check] ?? []).map((c) => ({
      name: `${rowName(row)}: ${c.label}`,
      row,
      c,
      seed: seedOf(check, rowName(row), c.label, row.seedSalt ?? ''),
    })),
  );
}
