/**
 * The playground in headless Chromium: `scripts/build-playground.js` builds the site into a temporary folder, the
 * tests' static server (tests/browser/harness.ts) serves it with the cross-origin-isolation headers, and the page is
 * driven over the DevTools protocol. Skipped (saying so) where no `chromium` is installed; CI installs it (.ci/run).
 * The screenshot (playground.png) stays in the temporary folder, printed at the end, as a CI artifact.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ChildProcess } from 'child_process';
import { DevTools, evaluatePage, findChromium, launchChromium, serve } from '../browser/harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildPlayground } = require('../../scripts/build-playground.js') as {
  buildPlayground(out: string): Promise<string[]>;
};

const chromium = findChromium();

interface Snapshot {
  results: string[];
  forwardRows: number;
  reverseRows: number;
  svgNodes: number;
  nodes: number;
  error: string;
  currentNodes: number;
  currentRows: number;
  hessian: string[];
  plotSeries: number;
  status: string;
  gradientGraph: string;
  plan: string;
}

interface PageReport {
  seed: Snapshot;
  sine: Snapshot;
  broken: Snapshot;
  requests: string[];
  train: { status: string; points: number[][] };
}

/** Runs in the page: reads what it shows, types the second expression and its inputs, steps once. */
const DRIVE = `(async () => {
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
  const snapshot = () => ({
    results: [...document.querySelectorAll('#results li')].map((li) => li.textContent),
    forwardRows: document.querySelectorAll('#forward tbody tr').length,
    reverseRows: document.querySelectorAll('#reverse tbody tr').length,
    svgNodes: document.querySelectorAll('#graph svg g.node').length,
    nodes: Number(/with (\\d+) nodes/.exec(document.querySelector('#graph svg').getAttribute('aria-label'))[1]),
    error: document.getElementById('error').textContent,
    currentNodes: document.querySelectorAll('#graph g.node.current').length,
    currentRows: document.querySelectorAll('tr.current').length,
    hessian: [...document.querySelectorAll('#hessian tbody td')].map((td) => td.textContent),
    plotSeries: document.querySelectorAll('#difference-plot polyline').length,
    status: document.getElementById('step-status').textContent,
    gradientGraph: document.getElementById('gradient-graph').textContent,
    plan: document.getElementById('plan').textContent,
  });
  const type = (id, text) => {
    const box = document.getElementById(id);
    box.value = text;
    box.dispatchEvent(new Event('input', { bubbles: true }));
  };
  await settle();
  const seed = snapshot();
  type('expression', 'sin(x) * y');
  type('input-x', '1');
  type('input-y', '2');
  document.getElementById('step').click();
  document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
  await settle();
  const sine = snapshot();
  type('expression', 'sin(x) * ');
  await settle();
  const broken = snapshot();
  type('expression', 'sin(x) * y');
  await settle();
  document.getElementById('train').click();
  const status = document.getElementById('train-status');
  for (let waited = 0; waited < 40000 && !/accuracy|failed/.test(status.textContent); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const curve = document.querySelector('#loss-curve polyline');
  const points = curve === null ? [] : curve.getAttribute('points').split(' ').map((p) => p.split(',').map(Number));
  const train = { status: status.textContent, points };
  const requests = performance.getEntriesByType('resource').map((entry) => entry.name);
  return { seed, sine, broken, requests, train };
})()`;

(chromium === null ? describe.skip : describe)('the playground in headless Chromium', () => {
  let dir: string;
  let report: PageReport;
  let consoleLines: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lazygrad-playground-'));
    const site = join(dir, 'site');
    await buildPlayground(site);
    const files: Record<string, [string, Buffer]> = {
      '/index.html': ['text/html; charset=utf-8', readFileSync(join(site, 'index.html'))],
      '/assets/playground.js': ['text/javascript', readFileSync(join(site, 'assets/playground.js'))],
      '/assets/playground.css': ['text/css', readFileSync(join(site, 'assets/playground.css'))],
      '/assets/digits.bin': ['application/octet-stream', readFileSync(join(site, 'assets/digits.bin'))],
    };
    const { server, url } = await serve(files);
    let browser: ChildProcess | undefined;
    let devTools: DevTools | undefined;
    try {
      const launched = await launchChromium(chromium as string, join(dir, 'profile'));
      browser = launched.child;
      devTools = await DevTools.connect(launched.ws);
      const page = await evaluatePage(devTools, `${url}/isolated/index.html`, DRIVE);
      report = page.value as PageReport;
      consoleLines = page.console;
      writeFileSync(join(dir, 'playground.png'), page.screenshot);
    } finally {
      devTools?.close();
      if (browser !== undefined && browser.exitCode === null) {
        const exited = new Promise((done) => browser?.once('exit', done));
        browser.kill();
        await exited;
      }
      server.close();
    }
  }, 60000);

  afterAll(() => {
    if (dir === undefined) return;
    // The screenshot stays (a CI artifact); the browser profile and the built site go.
    for (const folder of ['profile', 'site'])
      rmSync(join(dir, folder), { recursive: true, force: true, maxRetries: 5 });
    console.log(`playground screenshot: ${join(dir, 'playground.png')}`);
  });

  test('the default page shows the seed example: e = 6, ∂e/∂a = 2, ∂e/∂b = 5', () => {
    expect(report.seed.results).toEqual(['e = 6', '∂e/∂a = 2', '∂e/∂b = 5']);
    expect(report.seed.error).toBe('');
  });

  test('the seed graph has five nodes (a, b, a + b, b + 1, the product): one table row and one SVG node each', () => {
    expect(report.seed.nodes).toBe(5);
    expect(report.seed.forwardRows).toBe(5);
    expect(report.seed.reverseRows).toBe(5);
    expect(report.seed.svgNodes).toBe(5);
  });

  test('typing sin(x) * y at x = 1, y = 2 updates the value and the gradient', () => {
    const numbers = report.sine.results.map((line) => Number(line.split(' = ')[1]));
    expect(report.sine.results.map((line) => line.split(' = ')[0])).toEqual(['e', '∂e/∂x', '∂e/∂y']);
    expect(numbers[0]).toBeCloseTo(Math.sin(1) * 2, 4);
    expect(numbers[1]).toBeCloseTo(2 * Math.cos(1), 4);
    expect(numbers[2]).toBeCloseTo(Math.sin(1), 4);
  });

  test('its tables have one row per node and its SVG one element per node', () => {
    expect(report.sine.nodes).toBe(4); // x, y, sin(x), product
    expect(report.sine.forwardRows).toBe(4);
    expect(report.sine.reverseRows).toBe(4);
    expect(report.sine.svgNodes).toBe(4);
  });

  test('a step (the button, then the → key) highlights one table row and its node in the drawing', () => {
    expect(report.sine.status).toBe('forward mode, step 2 of 4: node y');
    expect(report.sine.currentRows).toBe(1);
    expect(report.sine.currentNodes).toBe(1);
  });

  test('a parse error is shown inline and the last good result stays', () => {
    expect(report.broken.error).toMatch(/^column 10: expected a number/);
    expect(report.broken.svgNodes).toBe(4);
  });

  test('the gradient graph and the pass report are shown as text behind toggles', () => {
    expect(report.seed.gradientGraph).toMatch(/gradients\/mul_grad/);
    expect(report.seed.plan).toMatch(/passes:\n +prune +nodes/);
  });

  test('the Hessian table: [[0, 1], [1, 2]] for the seed, [[−2 sin 1, cos 1], [cos 1, 0]] for sin(x) * y', () => {
    expect(report.seed.hessian.map(Number)).toEqual([0, 1, 1, 2]);
    const expected = [-2 * Math.sin(1), Math.cos(1), Math.cos(1), 0];
    report.sine.hessian.map(Number).forEach((value, k) => expect(value).toBeCloseTo(expected[k], 4));
  });

  test('the difference plot draws two series, float32 and float64', () => {
    expect(report.seed.plotSeries).toBe(2);
    expect(report.sine.plotSeries).toBe(2);
  });

  test('the train tab: 100 steps of the CLI demo MLP on two threads lower the loss and report the test accuracy', () => {
    expect(report.train.status).toMatch(
      /^step 100: loss [\d.]+, [\d.]+ ms per step \(backend wasm, 2 threads\); test accuracy/,
    );
    expect(report.train.points).toHaveLength(100);
    const [first, last] = [report.train.points[0][1], report.train.points[99][1]];
    expect(last).toBeGreaterThan(first); // SVG y grows downwards: a lower loss
    const accuracy = Number(/test accuracy ([\d.]+)%/.exec(report.train.status)?.[1]);
    expect(accuracy).toBeGreaterThan(70);
  });

  test('no console errors or warnings, and no request beyond the site itself', () => {
    expect(consoleLines.filter((line) => /^(error|warning|exception)/.test(line))).toEqual([]);
    for (const request of report.requests) expect(request).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  });
});

if (chromium === null) {
  test.skip('playground Chromium test skipped: no `chromium` on PATH (apt-get install chromium; CI installs it)', () => {
    // skipped on purpose
  });
}
