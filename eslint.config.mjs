// ESLint flat config: typescript-eslint's recommended rules, plus the layering of ARCHITECTURE.md as import rules.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * Imports a folder may not use: the arrows point graph ← ops ← autodiff ← passes ← session, and
 * graph ← ops ← backend ← session. `entry` lists exact specifiers (the public entry `..`), `above` gitignore-style
 * patterns (a folder and everything in it).
 */
function layer(files, above, message, entry = []) {
  const paths = entry.map((name) => ({ name, message }));
  const patterns = above.length === 0 ? [] : [{ group: above, message }];
  return { files, rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
}

const WASM_KERNELS =
  'Kernels work on typed arrays: src/backend/wasm imports src/ops/kernels and op types only, never the graph.';

const ENTRY = ['..', '../index'];

export default defineConfig(
  { ignores: ['dist/', 'playground/dist/', 'node_modules/', 'coverage/', 'benchmarks/results/'] },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // CommonJS config files such as jest.config.js
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  layer(['src/graph/**'], ['..', '../**'], 'src/graph is the IR layer: it imports nothing from the layers above it.'),
  layer(
    ['src/ops/**'],
    ['../autodiff', '../passes', '../session', '../backend'],
    'src/ops sits on src/graph only (graph ← ops ← autodiff ← passes ← session).',
    ENTRY,
  ),
  layer(
    ['src/ops/kernels/**'],
    ['..', '../**'],
    'Kernels work on typed arrays only: they never import the graph or op records.',
  ),
  layer(
    ['src/autodiff/**'],
    ['../passes', '../session', '../backend'],
    'src/autodiff sits below src/passes (graph ← ops ← autodiff ← passes ← session).',
    ENTRY,
  ),
  layer(
    ['src/passes/**'],
    ['../session', '../backend'],
    'src/passes sits below src/session (graph ← ops ← autodiff ← passes ← session).',
    ENTRY,
  ),
  layer(
    ['src/backend/**'],
    ['../autodiff', '../passes', '../session', '../interop', '../train', '../cli', '../node'],
    'src/backend (the wasm kernels and the binding table) sits on graph and ops, below session.',
    ENTRY,
  ),
  {
    files: ['src/backend/wasm/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            // Nothing above this folder but src/ops: not the binding table, not the graph.
            { regex: '^\\.\\.(?!/\\.\\./ops(/|$))', message: WASM_KERNELS },
            // From src/ops, values only from its kernels (an op's attribute types, such as FusedActivation, are fine).
            { regex: '^\\.\\./\\.\\./ops(?!/kernels(/|$))', message: WASM_KERNELS, allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    // The fused-group compiler (src/backend/wasm/jit): the wasm folder's own modules, nothing above it.
    files: ['src/backend/wasm/jit/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./\\.\\.(/|$)', message: WASM_KERNELS }] }],
    },
  },
  layer(['src/session/**'], [], 'Inside src/, import the layer folders, not the public entry.', ENTRY),
  layer(
    ['src/train/**'],
    ['../passes', '../session', '../backend', '../interop', '../cli', '../node', '**/ops/kernels', '**/ops/kernels/**'],
    'src/train builds graph nodes (optimizers, initializers) on the public APIs of graph, ops and autodiff only ' +
      '(random numbers: fillRandomUniform / fillRandomNormal of src/ops, not the kernels).',
    ENTRY,
  ),
  layer(
    ['src/interop/**'],
    ['**/cli', '**/cli/**', '**/node', '**/session', '**/session/**', '**/backend', '**/backend/**'],
    'src/interop (JSON, ONNX, pictures) works on graphs, not on the runtime: it imports graph and ops, never ' +
      'src/session (variable values come in as arguments) nor the Node-only entries.',
    [...ENTRY, '../..', '../../index'],
  ),
  layer(
    ['examples/**', 'benchmarks/**'],
    ['../src/*'],
    'Examples and benchmarks use only the public API: import from ../src, not from its folders.',
  ),
);
