import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { decodeSafetensors } from '../src';
import { parseArgs } from '../src/cli/args';
import { benchNpmArgs, COMMANDS, Io } from '../src/cli/commands';
import { main } from '../src/cli/main';

const root = resolve(__dirname, '..');
const tsNode = require.resolve('ts-node/dist/bin.js');
const entry = join(root, 'src', 'cli', 'index.ts');

/** Runs the CLI in this process, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    stream: { write: (text: string) => ((out += text), true), isTTY: false },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

/** Runs the CLI as a user does: a separate Node.js process (through ts-node, as in development). */
function spawnCli(args: readonly string[], cwd = root): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [tsNode, '--transpile-only', entry, ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lazygrad-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('help', () => {
  test('--help lists every command and exits 0', async () => {
    const { code, out } = await cli('--help');
    expect(code).toBe(0);
    for (const command of ['demo', 'train', 'inspect', 'bench', 'help'])
      expect(out).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  test.each(['demo', 'train', 'inspect', 'bench'])('%s --help prints its usage and exits 0', async (command) => {
    const { code, out } = await cli(command, '--help');
    expect(code).toBe(0);
    expect(out).toContain(`Usage: lazygrad ${command}`);
    expect(out).toContain('-h, --help');
  });

  test('help <command> is the same as <command> --help', async () => {
    expect((await cli('help', 'train')).out).toBe((await cli('train', '--help')).out);
  });

  test('the training flags are documented with their defaults', async () => {
    const { out } = await cli('demo', '--help');
    for (const flag of ['--epochs N', '--batch-size N', '--lr RATE', '--optimizer NAME', '--seed N', '--out DIR']) {
      expect(out).toContain(flag);
    }
    expect(out).toContain('(default by model: mlp 10, cnn 8)');
    expect(out).toContain('sgd, momentum, adam, adamw, rmsprop, adagrad (default adam)');
    expect(out).toMatch(/--model NAME +the model, an MLP 784-hidden-10 or a CNN \(conv 5×5 → 8, max-pool 2,/);
    expect(out).toMatch(/Moby Dick: mlp, cnn, charlm \(default\s+mlp\)/);
    expect(out).toMatch(/adagrad 0\.05; cnn:\s+adam\s+0\.005, adamw 0\.005\)/);
  });
});

describe('bad arguments: a one-line message, the usage, exit code 2', () => {
  test.each([
    [['demo', '--epoch', '3'], "lazygrad: demo: unknown option '--epoch'; did you mean --epochs?"],
    [['demo', '--epochs', '0'], 'lazygrad: demo --epochs: must be at least 1, got 0'],
    [['demo', '--epochs', '1.5'], "lazygrad: demo --epochs: expected an integer, got '1.5'"],
    [['train', '--lr', 'fast'], "lazygrad: train --lr: expected a number, got 'fast'"],
    [['train', '--optimizer', 'lbfgs'], "lazygrad: train --optimizer: 'lbfgs' is not one of sgd, momentum, adam"],
    [['demo', '--model', 'resnet'], "lazygrad: demo --model: 'resnet' is not one of mlp, cnn"],
    [['train', '--model'], 'lazygrad: train --model: needs a value'],
    [['demo', '--modle', 'cnn'], "lazygrad: demo: unknown option '--modle'; did you mean --model?"],
    [['train', '--seed'], 'lazygrad: train --seed: needs a value'],
    [['demo', '--train-samples', '9000'], 'lazygrad: --train-samples: at most 8000, got 9000'],
    [['demo', 'extra'], "lazygrad: demo: unexpected argument 'extra'"],
    [['inspect'], 'lazygrad: inspect: missing <graph>'],
    [['inspect', 'no-such-model'], "lazygrad: inspect: 'no-such-model' is neither a file nor a built-in model"],
    [['inspect', 'seed', '--format', 'png'], "lazygrad: inspect --format: 'png' is not one of text, dot, svg"],
    [['inspect', 'seed', '--format', 'onnx'], 'lazygrad: inspect --format onnx: an ONNX model is binary'],
    [['trian'], "lazygrad: unknown command 'trian'; did you mean train?"],
    [[], 'lazygrad: missing a command'],
  ])('%j', async (argv, message) => {
    const { code, out, err } = await cli(...argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    const [first, blank, usage] = err.split('\n');
    expect(first.startsWith(message)).toBe(true);
    expect(blank).toBe('');
    expect(usage).toMatch(/^Usage: lazygrad /);
  });
});

describe('inspect', () => {
  test('prints a built-in model as text IR', async () => {
    const { code, out } = await cli('inspect', 'seed');
    expect(code).toBe(0);
    expect(out).toMatch(/^%0 = placeholder\(\) : float32\[\] {2}# w0$/m);
    expect(out).toContain('gradients/');
  });

  test('prints Graphviz DOT with a legend, and writes SVG to a file', async () => {
    const dot = await cli('inspect', 'mlp', '--format', 'dot');
    expect(dot.out.startsWith('digraph lazygrad {')).toBe(true);
    expect(dot.out).toContain('legend');
    const file = join(dir, 'mlp.svg');
    const svg = await cli('inspect', 'mlp', '--format', 'svg', '--collapse', '15', '--output', file);
    expect(svg.code).toBe(0);
    expect(svg.out).toContain(`wrote ${file}`);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('<svg');
    expect(text).toContain('lazygrad&#45;scope');
  });
});

describe('inspect mlp', () => {
  test('--format json writes the loss, accuracy and gradient graph the docs describe, without the Adam update', async () => {
    const file = join(dir, 'mlp.json');
    expect((await cli('inspect', 'mlp', '--format', 'json', '--output', file)).code).toBe(0);
    const { nodes } = JSON.parse(readFileSync(file, 'utf8')) as { nodes: { op: string; name: string }[] };
    expect(nodes.some((n) => n.op === 'assign' || n.name.startsWith('adam'))).toBe(false);
    expect(nodes.some((n) => n.name === 'learning_rate')).toBe(false);
    // Every node is needed by the loss, the accuracy count or a gradient: the text IR prints the same nodes.
    const text = (await cli('inspect', 'mlp')).out.split('\n').filter((line) => line.startsWith('%'));
    expect(nodes.length).toBe(text.length);
    expect(nodes.length).toBe(41);
  });

  test('cnn is the demo CNN’s loss, accuracy and gradient graph', async () => {
    const { code, out } = await cli('inspect', 'cnn');
    expect(code).toBe(0);
    for (const op of ['conv2d(', 'maxPool(', 'conv2dBackpropFilter(', 'conv2dBackpropInput(', 'maxPoolGrad(']) {
      expect(out).toContain(op);
    }
    expect(out).not.toContain('assign(');
  });

  test('mlp-train still holds the Adam update', async () => {
    const file = join(dir, 'mlp-train.json');
    expect((await cli('inspect', 'mlp-train', '--format', 'json', '--output', file)).code).toBe(0);
    const { nodes } = JSON.parse(readFileSync(file, 'utf8')) as { nodes: { op: string }[] };
    expect(nodes.some((n) => n.op === 'assign')).toBe(true);
  });
});

describe('inspect files', () => {
  test('a graph converted to JSON reads back with the same text IR', async () => {
    const file = join(dir, 'seed.json');
    expect((await cli('inspect', 'seed', '--format', 'json', '--output', file)).code).toBe(0);
    const nodes = (text: string): string[] => text.split('\n').filter((line) => line.startsWith('%'));
    const loaded = await cli('inspect', file);
    expect(loaded.code).toBe(0);
    expect(nodes(loaded.out)).toEqual(nodes((await cli('inspect', 'seed')).out));
  });

  test('a graph exported to ONNX reads back as a graph', async () => {
    const file = join(dir, 'mlp.onnx');
    expect((await cli('inspect', 'mlp', '--format', 'onnx', '--output', file)).code).toBe(0);
    const { code, out } = await cli('inspect', file, '--format', 'text');
    expect(code).toBe(0);
    expect(out).toMatch(/= placeholder\(\) : float32\[\?, 784\] {2}# images/);
    expect(out).toContain('matMul');
  });

  test('a file that is neither JSON nor ONNX fails with exit code 1 and a message', async () => {
    const file = join(dir, 'garbage.bin');
    writeFileSync(file, Uint8Array.from([0xff, 0xff, 0xff, 0x01]));
    const { code, err } = await cli('inspect', file);
    expect(code).toBe(1);
    expect(err).toMatch(/^lazygrad inspect: /);
  });
});

describe('train', () => {
  test('saves a checkpoint that a second train --restore resumes from, and rejects one of another model', async () => {
    const checkpoint = join(dir, 'model.safetensors');
    const common = ['train', '--epochs', '1', '--train-samples', '300', '--test-samples', '300'];
    const first = await cli(...common, '--save', checkpoint);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`saved checkpoint ${checkpoint}`);
    const before = Number(/test accuracy (\d+\.\d+)%/.exec(first.out)?.[1]);
    const second = await cli(...common, '--restore', checkpoint);
    expect(second.code).toBe(0);
    expect(second.out).toContain(`restored ${checkpoint}: test accuracy ${before.toFixed(2)}% before training`);
    const mismatch = await cli(...common, '--optimizer', 'sgd', '--restore', checkpoint);
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toMatch(/^lazygrad train: Session\.restore\('.*'\): the checkpoint does not match/);
    expect(mismatch.err).toContain("extra: the checkpoint's 'adam/step'");
  });
});

describe('--model cnn', () => {
  test('trains the CNN for its default epochs; the log, report, checkpoint and ONNX model are the CNN’s', async () => {
    const out = join(dir, 'cnn-out');
    const run = await cli('demo', '--model', 'cnn', '--train-samples', '192', '--test-samples', '100', '--out', out);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('model: CNN: conv 5×5 → 8 + relu, max-pool 2, conv 5×5 → 16 + relu, max-pool 2');
    expect(run.out.match(/^epoch \d\/8 \[#+\] 100%/gm)).toHaveLength(8);
    expect(run.out).toMatch(/restored into a new session: test accuracy \d+\.\d+%, the same/);
    const { tensors } = decodeSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect(tensors.get('conv1/kernel')?.shape).toEqual([5, 5, 1, 8]);
    expect(tensors.get('conv2/kernel/adam_m')?.shape).toEqual([5, 5, 8, 16]);
    expect(tensors.get('dense1/kernel')?.shape).toEqual([256, 128]);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('<h1>lazygrad: a CNN learns MNIST digits</h1>');
    expect(html).toContain('<code>lazygrad demo --model cnn --epochs 8 --batch-size 64');
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toContain('target 98%');
    const onnx = await cli('inspect', join(out, 'model.onnx'));
    expect(onnx.code).toBe(0);
    expect(onnx.out).toContain('conv2d');
    expect(onnx.out).toContain('maxPool');
  }, 120_000);

  test('train --model mlp cannot resume a CNN checkpoint', async () => {
    const checkpoint = join(dir, 'cnn.safetensors');
    const common = ['--epochs', '1', '--train-samples', '64', '--test-samples', '64'];
    expect((await cli('train', '--model', 'cnn', ...common, '--save', checkpoint)).code).toBe(0);
    const mismatch = await cli('train', ...common, '--restore', checkpoint);
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toContain("the checkpoint's 'conv1/kernel'");
  }, 60_000);
});

describe('train --restore', () => {
  test('a missing checkpoint is an error before MNIST is loaded or the graph built', async () => {
    const missing = join(dir, 'missing.safetensors');
    const { code, out, err } = await cli('train', '--epochs', '1', '--restore', missing);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/^lazygrad: train --restore: '.*missing\.safetensors' does not exist/);
  });
});

describe('the CLI as a process', () => {
  test('a bad flag exits with code 2 and prints the usage on stderr', () => {
    const { status, stdout, stderr } = spawnCli(['demo', '--bogus']);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^lazygrad: demo: unknown option '--bogus'\n\nUsage: lazygrad demo/);
  }, 60_000);

  test('demo --epochs 1 trains, reports the test accuracy and writes the report, pictures and checkpoint', () => {
    const out = join(dir, 'out');
    const args = ['demo', '--epochs', '1', '--train-samples', '500', '--test-samples', '500', '--out', out];
    const { status, stdout, stderr } = spawnCli(args);
    expect(stderr.replace(/npm warn.*\n/g, '')).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^epoch 1\/1 \[#+\] 100% {2}loss \d\.\d{4} {2}train \d+\.\d% {2}test \d+\.\d%/m);
    const accuracy = Number(/test accuracy (\d+\.\d+)%/.exec(stdout)?.[1]);
    expect(accuracy).toBeGreaterThan(50);
    expect(stdout).toContain('restored into a new session');
    const pictures = ['curves.svg', 'forward.svg', 'gradients.svg', 'optimized.svg', 'train-step.svg'];
    for (const name of ['index.html', 'model.onnx', 'graph.json', ...pictures]) {
      expect(existsSync(join(out, name))).toBe(true);
    }
    const { tensors } = decodeSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect([...tensors.keys()]).toContain('dense1/kernel/adam_m');
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('<a href="gradients.svg">');
  }, 90_000);
});

describe('the built command', () => {
  test('dist/cli/index.js runs with node after tsc, from any directory', () => {
    // A package folder whose dependencies resolve as after an install: node_modules links to the repository's.
    const pkg = join(dir, 'package');
    mkdirSync(pkg);
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    const tsc = require.resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(pkg, 'dist')], { cwd: root });
    const bin = join(pkg, 'dist', 'cli', 'index.js');
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const dot = spawnSync(process.execPath, [bin, 'inspect', 'seed', '--format', 'dot'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(dot.stderr).toBe('');
    expect(dot.status).toBe(0);
    expect(dot.stdout.startsWith('digraph lazygrad {')).toBe(true);
    // Installed, the package has its package.json (with the bench script) but neither benchmarks/ nor ts-node.
    writeFileSync(join(pkg, 'package.json'), readFileSync(join(root, 'package.json')));
    const bench = spawnSync(process.execPath, [bin, 'bench', '--quick'], { cwd: dir, encoding: 'utf8' });
    expect(bench.status).toBe(2);
    expect(bench.stdout).toBe('');
    expect(bench.stderr).toMatch(/^lazygrad bench: the benchmarks run from a clone of the repository/);
  }, 120_000);
});

describe('bench', () => {
  const spec = COMMANDS.find((c) => c.spec.name === 'bench')?.spec;
  test('passes --quick and --only through to npm run bench', () => {
    if (spec === undefined) throw new Error('no bench command');
    expect(benchNpmArgs(parseArgs(spec, []))).toEqual(['run', 'bench']);
    expect(benchNpmArgs(parseArgs(spec, ['--quick']))).toEqual(['run', 'bench', '--', '--quick']);
    expect(benchNpmArgs(parseArgs(spec, ['--only', 'lenet']))).toEqual(['run', 'bench', '--', '--only', 'lenet']);
    expect(benchNpmArgs(parseArgs(spec, ['--quick', '--only=matmul,chain']))).toEqual([
      'run',
      'bench',
      '--',
      '--quick',
      '--only',
      'matmul,chain',
    ]);
  });

  test('bench --only without a value is a usage error', async () => {
    const { code, err } = await cli('bench', '--only');
    expect(code).toBe(2);
    expect(err).toMatch(/--only/);
  });
});
