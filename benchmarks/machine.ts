/** The machine a run was measured on, and its peak arithmetic rate (for matMul's % of peak). */
import { readFileSync } from 'fs';
import { cpus } from 'os';
import { version as tfjsVersion } from '@tensorflow/tfjs';

export interface Machine {
  cpu: string;
  cores: number;
  /** Nominal clock: from the model name when it has one, else BogoMIPS / 2 (what a KVM guest shows). */
  ghz: number;
  avx512: boolean;
  /** FLOP per cycle per core: FMA on AVX-512 (2 units × 16 lanes × 2) or AVX2 (2 × 8 × 2). */
  flopPerCycle: number;
  peakGflopsPerCore: number;
  node: string;
  tfjs: string;
  onnxruntime: string;
  platform: string;
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): Machine {
  let info = '';
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // Not Linux: fall back to what os.cpus() says.
  }
  const field = (name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
  const model = field('model name') ?? cpus()[0]?.model ?? 'unknown CPU';
  const family = field('cpu family');
  const modelNumber = field('model');
  const flags = (field('flags') ?? '').split(/\s+/);
  const avx512 = flags.includes('avx512f');
  const named = /@\s*([\d.]+)\s*GHz/.exec(model);
  const bogomips = Number(field('bogomips') ?? NaN);
  const ghz = named !== null ? Number(named[1]) : Number.isFinite(bogomips) ? bogomips / 2000 : cpus()[0].speed / 1000;
  const flopPerCycle = avx512 ? 64 : 32;
  const extras = [family !== undefined && modelNumber !== undefined ? `family ${family} model ${modelNumber}` : '']
    .concat(avx512 ? ['AVX-512'] : [])
    .filter((s) => s !== '');
  return {
    cpu: extras.length > 0 ? `${model} (${extras.join(', ')})` : model,
    cores: cpus().length,
    ghz,
    avx512,
    flopPerCycle,
    peakGflopsPerCore: flopPerCycle * ghz,
    node: process.version,
    tfjs: tfjsVersion.tfjs,
    onnxruntime: packageVersion('onnxruntime-node'),
    platform: `${process.platform} ${process.arch}`,
  };
}

/**
 * A plain typed-array loop's time (ms): measured at the start and end of a run in lazygrad's thread. If it slows
 * down, something in that thread detached an ArrayBuffer (PERF-NOTES) and later figures are suspect.
 */
export function typedArrayProbe(): number {
  const n = 1 << 20;
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = i / n;
    b[i] = 1 - i / n;
  }
  const times: number[] = [];
  for (let r = 0; r < 25; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) out[i] = a[i] * b[i] + out[i];
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}
