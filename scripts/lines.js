/* global console */
/**
 * Non-blank lines of TypeScript per folder of the README's layout table (`npm run lines`), so the table's figures can
 * be refreshed when the code moves. A folder's count includes its subfolders unless they have a row of their own.
 */
'use strict';
const { readdirSync, readFileSync, statSync } = require('fs');
const { join, relative, resolve } = require('path');

const root = resolve(__dirname, '..');
const ROWS = [
  'src/graph',
  'src/ops',
  'src/ops/kernels',
  'src/autodiff',
  'src/passes',
  'src/backend',
  'src/session',
  'src/interop',
  'src/train',
  'src/cli',
  'assembly',
  'examples',
  'benchmarks',
  'tests',
];

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (name.endsWith('.ts') && !name.endsWith('.generated.ts')) out.push(path);
  }
  return out;
}

const own = (file, row) => ROWS.filter((r) => r !== row && r.startsWith(row + '/')).every((r) => !file.startsWith(r));
for (const row of ROWS) {
  const dir = join(root, row);
  const counted = files(dir).filter((f) => own(relative(root, f), row));
  const lines = counted.reduce(
    (n, f) =>
      n +
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.trim()).length,
    0,
  );
  console.log(`${row.padEnd(18)} ${String(counted.length).padStart(4)} files ${String(lines).padStart(7)} lines`);
}
