/**
 * lazygrad in a real browser: tests/browser/page.ts bundled by esbuild, served with and without cross-origin
 * isolation, run in headless Chromium driven over the DevTools protocol. Skipped (saying so) where no `chromium` is
 * installed; CI installs it (.ci/run).
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { findChromium, runPageInChromium } from './harness';

const root = resolve(__dirname, '../..');
const chromium = findChromium();

interface PageResults {
  crossOriginIsolated: boolean;
  backend: string;
  threadsAtConstruction: number;
  threads: number;
  warnings: string[];
  seed: number[];
  losses: number[];
  twoThreadMatMulMatchesJs: boolean;
  helperJobs: number;
  relaxedValidates: boolean;
  matMul: {
    size: number;
    baselineMs: number;
    relaxedMs: number | null;
    variants: string[];
    sessionMs: { oneThread: number; twoThreads: number };
  };
}

(chromium === null ? describe.skip : describe)('lazygrad in headless Chromium', () => {
  let dir: string;
  const results: Record<string, PageResults> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lazygrad-browser-'));
    const bundle = await build({
      entryPoints: [join(__dirname, 'page.ts')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      alias: { lazygrad: join(root, 'src/index.ts') },
      write: false,
      logLevel: 'silent',
    });
    const pages = await runPageInChromium(Buffer.from(bundle.outputFiles[0].contents), dir);
    results.isolated = pages.isolated as PageResults;
    results.plain = pages.plain as PageResults;
    // The figures for docs/browser.md (relaxed SIMD's gain); printed only when asked.
    if (process.env.LAZYGRAD_BROWSER_REPORT) console.log(JSON.stringify(results, null, 1), dir);
  }, 60000);

  afterAll(() => {
    if (dir !== undefined && !process.env.LAZYGRAD_BROWSER_REPORT) {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    }
  });

  test('the seed example e = (a+b)(b+1) at (2, 1): e = 6, ∂e/∂a = 2, ∂e/∂b = 5, on both pages', () => {
    expect(results.isolated.seed).toEqual([6, 2, 5]);
    expect(results.plain.seed).toEqual([6, 2, 5]);
  });

  test('a few SGD steps of a small MLP lower its loss', () => {
    for (const { losses } of Object.values(results)) {
      expect(losses).toHaveLength(8);
      expect(losses[7]).toBeLessThan(losses[0] * 0.9);
      for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    }
  });

  test('the wasm backend runs', () => {
    expect(results.isolated.backend).toBe('wasm');
    expect(results.plain.backend).toBe('wasm');
  });

  test('on the cross-origin-isolated page threads: 2 really runs a helper worker, agreeing with the JS backend', () => {
    expect(results.isolated.crossOriginIsolated).toBe(true);
    expect(results.isolated.threads).toBe(2);
    expect(results.isolated.warnings).toEqual([]);
    expect(results.isolated.twoThreadMatMulMatchesJs).toBe(true);
    expect(results.isolated.helperJobs).toBeGreaterThan(0);
  });

  test('elsewhere it falls back to one thread and warns once', () => {
    expect(results.plain.crossOriginIsolated).toBe(false);
    expect(results.plain.threadsAtConstruction).toBe(1);
    expect(results.plain.threads).toBe(1);
    expect(results.plain.warnings).toHaveLength(1);
    expect(results.plain.helperJobs).toBe(0);
    expect(results.plain.warnings[0]).toMatch(/threads: 2 runs on one thread: .*cross-origin isolated/);
  });

  test('relaxed SIMD validates in Chromium and is the build chosen by default', () => {
    expect(results.isolated.relaxedValidates).toBe(true);
    expect(results.isolated.matMul.variants).toEqual(['single', 'single-relaxed']);
  });
});

if (chromium === null) {
  test.skip('headless Chromium test skipped: no `chromium` on PATH (apt-get install chromium; CI installs it)', () => {
    // skipped on purpose
  });
}
