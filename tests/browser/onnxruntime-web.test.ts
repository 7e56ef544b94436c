/**
 * The 'onnxruntime' backend in a real browser, on onnxruntime-web: tests/browser/ort-page.ts bundled by esbuild
 * (lazygrad from src/, onnxruntime-web from node_modules), its .wasm files served by the test's own server, run in
 * headless Chromium (tests/browser/harness.ts). Skipped (saying so) where no `chromium` is installed.
 */
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { ChildProcess } from 'child_process';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { DevTools, evaluatePage, findChromium, launchChromium, serve } from './harness';
import type { OrtPageResults } from './ort-page';

const root = resolve(__dirname, '../..');
const chromium = findChromium();
const ortDist = join(root, 'node_modules/onnxruntime-web/dist');

/**
 * The files onnxruntime-web 1.30 fetches at run time: its default build runs the wasm and WebGPU providers from one
 * (jsep) wasm build; ort.min.mjs is the package's unbundled ESM build, which the import map names.
 */
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs', 'ort.min.mjs'];

function page(importMap: boolean): string {
  const map = importMap ? '<script type="importmap">{"imports":{"onnxruntime-web":"./ort/ort.min.mjs"}}</script>' : '';
  return `<!doctype html><meta charset="utf-8"><title>lazygrad on onnxruntime-web</title><link rel="icon" href="data:,">${map}<script type="module" src="page.js"></script>`;
}

interface PageRun {
  results: OrtPageResults;
  console: string[];
}

const runnable = chromium !== null && existsSync(join(ortDist, 'ort.min.mjs'));

(runnable ? describe : describe.skip)('the onnxruntime backend on onnxruntime-web in headless Chromium', () => {
  let dir: string;
  const pages: Record<'isolated' | 'plain', PageRun> = {} as never;
  const requests: string[] = [];
  const notFound: string[] = [];
  let origin = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lazygrad-ortweb-'));
    const bundle = await build({
      entryPoints: [join(__dirname, 'ort-page.ts')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      alias: { lazygrad: join(root, 'src/index.ts') },
      write: false,
      logLevel: 'silent',
    });
    const files: Record<string, [string, string | Buffer]> = {
      '/index.html': ['text/html', page(false)],
      '/mapped.html': ['text/html', page(true)],
      '/page.js': ['text/javascript', Buffer.from(bundle.outputFiles[0].contents)],
    };
    for (const name of ORT_FILES) {
      files[`/ort/${name}`] = [
        name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript',
        readFileSync(join(ortDist, name)),
      ];
    }
    const { server, url } = await serve(files);
    origin = url;
    server.on('request', (req, res) => {
      requests.push(req.url ?? '');
      res.on('finish', () => {
        if (res.statusCode !== 200) notFound.push(`${res.statusCode} ${req.url}`);
      });
    });
    let browser: ChildProcess | undefined;
    let devTools: DevTools | undefined;
    try {
      const launched = await launchChromium(chromium as string, join(dir, 'profile'));
      browser = launched.child;
      devTools = await DevTools.connect(launched.ws);
      // The isolated page maps 'onnxruntime-web' with an import map (the default loader resolves it); the plain one
      // does not (the default loader's error).
      for (const [kind, file] of [
        ['isolated', 'mapped.html'],
        ['plain', 'index.html'],
      ] as const) {
        const run = await evaluatePage(devTools, `${url}/${kind}/${file}`, 'window.lazygradResults');
        pages[kind] = { results: run.value as OrtPageResults, console: run.console };
      }
    } finally {
      devTools?.close();
      if (browser !== undefined && browser.exitCode === null) {
        const exited = new Promise((resolve) => browser?.once('exit', resolve));
        browser.kill();
        await exited;
      }
      server.close();
    }
    if (process.env.LAZYGRAD_BROWSER_REPORT) console.log(JSON.stringify({ pages, requests, notFound }, null, 1));
  }, 60000);

  afterAll(() => {
    if (dir !== undefined && !process.env.LAZYGRAD_BROWSER_REPORT) {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    }
  });

  /** |a − b| ≤ 1e-5 + 1e-4·|b| elementwise (float32 kernels in a different order). */
  function expectClose(actual: number[][], expected: number[][]): void {
    expect(actual.map((row) => row.length)).toEqual(expected.map((row) => row.length));
    expected.forEach((row, i) =>
      row.forEach((b, j) => {
        const a = actual[i][j];
        if (!(Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b))) throw new Error(`value ${i}/${j}: ${a} vs ${b}`);
      }),
    );
  }

  const kinds = ['isolated', 'plain'] as const;

  test('the pages ran the backends asked for, on onnxruntime-web 1.30, with and without cross-origin isolation', () => {
    expect(pages.isolated.results.crossOriginIsolated).toBe(true);
    expect(pages.plain.results.crossOriginIsolated).toBe(false);
    for (const kind of kinds) {
      expect(pages[kind].results.backends).toEqual({ ort: 'onnxruntime', wasm: 'wasm' });
      expect(pages[kind].results.ortVersion).toMatch(/^1\.30\./);
      expect(pages[kind].results.explain).toMatch(/onnxruntime backend: 1 segment \(1 in ONNX Runtime, 0 in lazygrad/);
    }
  });

  test('forward values and gradients of the MLP agree with the wasm backend', () => {
    for (const kind of kinds) {
      const { forward } = pages[kind].results;
      // logits [8, 3], the loss, the gradients of w1 [6, 16], b1 [16], w2 [16, 3], b2 [3]
      expect(forward.ort.map((v) => v.length)).toEqual([24, 1, 96, 16, 48, 3]);
      expect(forward.ort.flat().every(Number.isFinite)).toBe(true);
      expect(forward.ort[3].some((v) => v !== 0)).toBe(true);
      expectClose(forward.ort, forward.wasm);
    }
  });

  test('five Adam steps lower the loss alike and leave the same variables', () => {
    for (const kind of kinds) {
      const { losses, variables } = pages[kind].results;
      expect(losses.ort).toHaveLength(5);
      for (let i = 1; i < 5; i++) expect(losses.ort[i]).toBeLessThan(losses.ort[i - 1]);
      expectClose([losses.ort], [losses.wasm]);
      expectClose(variables.ort, variables.wasm);
      // the variables moved: the first step's loss is not the last one's
      expect(losses.ort[4]).toBeLessThan(losses.ort[0] * 0.8);
    }
  });

  test('sess.run on this backend is a SessionError pointing to runAsync', () => {
    for (const kind of kinds) {
      expect(pages[kind].results.syncRun).toMatchObject({ ok: false, name: 'SessionError' });
      expect(pages[kind].results.syncRun.message).toMatch(/runs asynchronously.*runAsync/);
    }
  });

  test("executionProviders: ['webgpu'] without a GPU adapter is a SessionError; ['webgpu', 'wasm'] falls back", () => {
    for (const kind of kinds) {
      const { webgpu, webgpuThenWasm, losses } = pages[kind].results;
      expect(webgpu.navigatorGpu).toBe(true);
      if (webgpu.adapter) {
        // a Chromium that has a WebGPU adapter (not this machine's: headless, --disable-gpu, no GPU) runs it
        expect(webgpu.ok).toBe(true);
        expectClose([webgpu.values as number[]], [[losses.wasm[0]]]);
      } else {
        expect(webgpu).toMatchObject({ ok: false, name: 'SessionError' });
        expect(webgpu.message).toMatch(/could start none of the execution providers .*\['webgpu'\].*webgpu/);
      }
      expect(webgpuThenWasm.ok).toBe(true);
      expectClose([webgpuThenWasm.values as number[]], [[losses.wasm[0]]]);
    }
  });

  test("the default loader imports 'onnxruntime-web' where an import map names it; elsewhere a SessionError naming it", () => {
    const mapped = pages.isolated.results.defaultLoader;
    expect(mapped.ok).toBe(true);
    expectClose([mapped.values as number[]], [[pages.isolated.results.losses.wasm[0]]]);
    const plain = pages.plain.results.defaultLoader;
    expect(plain).toMatchObject({ ok: false, name: 'SessionError' });
    expect(plain.message).toMatch(/needs the 'onnxruntime-web' package.*npm install onnxruntime-web/);
  });

  test("every request went to the test's own server and was served; no error on the console", () => {
    for (const kind of kinds) {
      expect(pages[kind].results.resources.length).toBeGreaterThan(0);
      for (const resource of pages[kind].results.resources)
        expect(resource.startsWith(`${origin}/${kind}/`)).toBe(true);
      // no error; without a GPU adapter one warning, ONNX Runtime's own, when it drops 'webgpu' for the
      // ['webgpu', 'wasm'] session
      const expected = pages[kind].results.webgpu.adapter ? 0 : 1;
      expect(pages[kind].console).toHaveLength(expected);
      for (const line of pages[kind].console)
        expect(line).toMatch(/^warning: removing requested execution provider "webgpu" .*GPU adapter/);
    }
    expect(notFound).toEqual([]);
    expect(requests).toContain('/isolated/ort/ort-wasm-simd-threaded.jsep.wasm');
    expect(requests).toContain('/isolated/ort/ort.min.mjs');
  });

  test('on the cross-origin-isolated page onnxruntime-web runs two threads: its worker loads its .jsep.mjs', () => {
    // the page loads the script once; ONNX Runtime's pthread worker loads it again (served with no-store)
    const loads = (kind: string) => requests.filter((r) => r === `/${kind}/ort/ort-wasm-simd-threaded.jsep.mjs`);
    expect(pages.isolated.results.ortNumThreads).toBe(2);
    expect(loads('isolated').length).toBeGreaterThanOrEqual(2);
    expect(pages.plain.results.ortNumThreads).toBe(1);
    expect(loads('plain')).toHaveLength(1);
  });
});

if (!runnable) {
  test.skip('onnxruntime-web test skipped: needs `chromium` on PATH (CI installs it) and onnxruntime-web (a dev dependency)', () => {
    // skipped on purpose
  });
}
