/**
 * The playground in headless Chromium: `scripts/build-playground.js` builds the site into a temporary folder, the
 * tests' static server (tests/browser/harness.ts) serves it, once with the cross-origin-isolation headers and once
 * without, and the page is driven over the DevTools protocol (tests/playground/driver.ts): by script on the isolated
 * page, by real key presses only on the plain one. What the drawings must show is computed here in Node with the
 * page's own modules (node counts of the graphs lazygrad built). Skipped (saying so) where no `chromium` is
 * installed; CI installs it (.ci/run). The screenshots (1366×768: playground.png, playground-neuron.png,
 * playground-train.png) stay in
 * the temporary folder, printed at the end, as CI artifacts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { extname, join } from 'path';
import { ChildProcess } from 'child_process';
import { ancestors } from '../../src/core';
import { DevTools, findChromium, launchChromium, serve } from '../browser/harness';
import { hessianAndGradient } from '../../playground/src/analysis';
import { evaluate } from '../../playground/src/model';
import { parse } from '../../playground/src/parser';
import { Page } from './driver';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildPlayground } = require('../../scripts/build-playground.js') as {
  buildPlayground(out: string): Promise<string[]>;
};

const chromium = findChromium();

/** An expression whose gradient the session fuses (4 groups of elementwise ops). */
const FUSING = 'tanh(x)^2 * exp(y) / (1 + x*x)';

/** What the page's drawings must have, from the same lazygrad graphs built in Node. */
interface Expected {
  rows: number;
  gradientNodes: number;
  /** Nodes toDot marks as gradient ops: under `gradients/`, not leaves, not fused. */
  gradientOps: number;
  planNodes: number;
  planSteps: number;
  planGroups: number;
  hessianNodes: number;
}

function expected(text: string, feed: Record<string, number>): Expected {
  const parsed = parse(text);
  if (!parsed.ok) throw new Error(parsed.message);
  const evaluation = evaluate(parsed.expression, parsed.inputs, feed);
  const graph = evaluation.fetches[0].graph;
  const drawn = ancestors(
    graph,
    evaluation.fetches.map((t) => t.id),
  ).map((id) => graph.node(id));
  return {
    rows: evaluation.rows.length,
    gradientNodes: drawn.length,
    gradientOps: drawn.filter(
      (n) => n.name.startsWith('gradients/') && !['placeholder', 'variable', 'constant', 'fused'].includes(n.op),
    ).length,
    planNodes: evaluation.plan.nodes,
    planSteps: evaluation.plan.steps,
    planGroups: evaluation.plan.groups,
    hessianNodes: hessianAndGradient(parsed.expression, parsed.inputs, feed).nodes,
  };
}

interface Snapshot {
  results: string[];
  forwardRows: number;
  reverseRows: number;
  svgNodes: number;
  gradientSvgNodes: number;
  gradientMarked: number;
  gradientClusters: number;
  planSvgNodes: number;
  planSteps: number;
  planClusters: number;
  planReport: string;
  hessianSvgNodes: number;
  edgeLabels: string[];
  error: string;
  currentNodes: number;
  currentRows: number;
  hessian: string[];
  plotSeries: number;
  status: string;
}

/** Runs in the page: what it shows now (after the latest drawings are in). */
const SNAPSHOT = `(async () => {
  // A toggle's drawing starts on its 'toggle' event, a task after it opens.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await window.playground.drawn();
  const count = (selector) => document.querySelectorAll(selector).length;
  return {
    results: [...document.querySelectorAll('#results li')].map((li) => li.textContent),
    forwardRows: count('#forward tbody tr'),
    reverseRows: count('#reverse tbody tr'),
    svgNodes: count('#graph svg g.node'),
    gradientSvgNodes: count('#gradient-graph svg g.node'),
    gradientMarked: count('#gradient-graph svg g.node.lazygrad-gradient'),
    gradientClusters: count('#gradient-graph svg g.cluster'),
    planSvgNodes: count('#plan svg g.node'),
    planSteps: count('#plan svg g.node.fused-step'),
    planClusters: count('#plan svg g.cluster.fused-group'),
    planReport: document.getElementById('plan-report').textContent,
    hessianSvgNodes: count('#hessian-graph svg g.node'),
    edgeLabels: [...document.querySelectorAll('#graph svg g.edge text')].map((t) => t.textContent),
    error: document.getElementById('error').textContent,
    currentNodes: count('#graph g.node.current'),
    currentRows: count('tr.current'),
    hessian: [...document.querySelectorAll('#hessian tbody td')].map((td) => td.textContent),
    plotSeries: count('#difference-plot polyline'),
    status: document.getElementById('step-status').textContent,
  };
})()`;

/** Sets a field's value by script (the isolated page; the plain one is driven by keys). */
const type = (id: string, text: string): string =>
  `(() => { const box = document.getElementById('${id}'); box.value = ${JSON.stringify(text)}; ` +
  `box.dispatchEvent(new Event('input', { bubbles: true })); })()`;

/** Waits for the train status to end a run; returns it and the loss curve's points. */
const AWAIT_TRAINING = `(async () => {
  const status = document.getElementById('train-status');
  for (let waited = 0; waited < 50000 && !/accuracy|failed/.test(status.textContent); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const curve = document.querySelector('#loss-curve polyline');
  const points = curve === null ? [] : curve.getAttribute('points').split(' ').map((p) => p.split(',').map(Number));
  const digits = [...document.querySelectorAll('#digits figcaption')].map((c) => c.textContent);
  return { status: status.textContent, points, digits, canvases: document.querySelectorAll('#digits canvas').length };
})()`;

interface Training {
  status: string;
  points: number[][];
  digits: string[];
  canvases: number;
}

interface Neuron {
  written: string[];
  staged: string[];
  rewrite: string;
  writtenNodes: number;
  stagedNodes: number;
  optimizedNodes: number;
}

const NEURON = `(async () => {
  await window.playground.drawn();
  const items = (id) => [...document.querySelectorAll('#' + id + ' li')].map((li) => li.textContent);
  const count = (selector) => document.querySelectorAll(selector).length;
  return {
    written: items('neuron-written-results'),
    staged: items('neuron-staged-results'),
    rewrite: document.getElementById('neuron-rewrite').textContent,
    writtenNodes: count('#neuron-written-graph svg g.node'),
    stagedNodes: count('#neuron-staged-graph svg g.node'),
    optimizedNodes: count('#neuron-optimized-graph svg g.node'),
  };
})()`;

/** Every control's accessible name, the focus outline of the focused one, and where the results live. */
const ACCESSIBILITY = `(() => {
  const unnamedFields = [...document.querySelectorAll('input, select')]
    .filter((field) => field.labels.length === 0 && !field.getAttribute('aria-label'))
    .map((field) => field.id || field.outerHTML);
  const unnamedButtons = [...document.querySelectorAll('button, [role="tab"]')]
    .filter((button) => button.textContent.trim() === '' && !button.getAttribute('aria-label'))
    .map((button) => button.outerHTML);
  const focused = getComputedStyle(document.activeElement);
  const live = ['results', 'step-status', 'train-status'].map((id) => document.getElementById(id).closest('[aria-live]') !== null);
  return { unnamedFields, unnamedButtons, outline: focused.outlineStyle + ' ' + focused.outlineWidth, live };
})()`;

interface Accessibility {
  unnamedFields: string[];
  unnamedButtons: string[];
  outline: string;
  live: boolean[];
}

interface KeyboardReport {
  tabsToExpression: number;
  typed: Snapshot;
  stepped: string;
  detailsOpen: boolean;
  /** The plan's SVG nodes while its toggle is closed (not drawn) and once it is open. */
  planBeforeOpen: number;
  planOnOpen: number;
  focusedOnStep: Accessibility;
  tabs: { selected: string; visible: string }[];
  training: Training;
  isolated: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.bin': 'application/octet-stream',
};

(chromium === null ? describe.skip : describe)('the playground in headless Chromium', () => {
  let dir: string;
  let consoleLines: { isolated: string[]; plain: string[] };
  let requests: string[];
  let seed: Snapshot;
  let sine: Snapshot;
  let broken: Snapshot;
  let fusing: Snapshot;
  let timeline: { values: number; drawn: number };
  let neuron: Neuron;
  let training: Training;
  let keyboard: KeyboardReport;
  let assets: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lazygrad-playground-'));
    const site = join(dir, 'site');
    await buildPlayground(site);
    assets = readdirSync(join(site, 'assets'));
    const files: Record<string, [string, Buffer]> = {
      '/index.html': [TYPES['.html'], readFileSync(join(site, 'index.html'))],
    };
    for (const file of assets) {
      files[`/assets/${file}`] = [TYPES[extname(file)], readFileSync(join(site, 'assets', file))];
    }
    const { server, url } = await serve(files);
    let browser: ChildProcess | undefined;
    let devTools: DevTools | undefined;
    try {
      const launched = await launchChromium(chromium as string, join(dir, 'profile'));
      browser = launched.child;
      devTools = await DevTools.connect(launched.ws);

      // The isolated page, driven by script.
      const page = await Page.open(devTools, `${url}/isolated/index.html`);
      await page.evaluate(
        `['plan-details', 'hessian-details'].forEach((id) => (document.getElementById(id).open = true))`,
      );
      seed = await page.evaluate<Snapshot>(SNAPSHOT);
      timeline = await page.evaluate<{ values: number; drawn: number }>('window.playground.timeline');
      await page.evaluate(`[1, 2, 3].forEach(() => document.getElementById('step').click())`);
      writeFileSync(join(dir, 'playground.png'), await page.screenshot());
      await page.evaluate(`document.getElementById('reset').click()`);
      await page.evaluate(type('expression', 'sin(x) * y'));
      await page.evaluate(type('input-x', '1'));
      await page.evaluate(type('input-y', '2'));
      await page.evaluate(`(() => {
        document.getElementById('step').click();
        document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
      })()`);
      sine = await page.evaluate<Snapshot>(SNAPSHOT);
      await page.evaluate(type('expression', 'sin(x) * '));
      broken = await page.evaluate<Snapshot>(SNAPSHOT);
      await page.evaluate(type('expression', FUSING));
      fusing = await page.evaluate<Snapshot>(SNAPSHOT);
      await page.evaluate(type('expression', 'sin(x) * y'));
      neuron = await page.evaluate<Neuron>(NEURON);
      await page.evaluate(`document.getElementById('tab-neuron').click()`);
      writeFileSync(join(dir, 'playground-neuron.png'), await page.screenshot());
      await page.evaluate(`document.getElementById('tab-train').click()`);
      await page.evaluate(`document.getElementById('train').click()`);
      training = await page.evaluate<Training>(AWAIT_TRAINING);
      writeFileSync(join(dir, 'playground-train.png'), await page.screenshot());
      requests = await page.evaluate<string[]>(`performance.getEntriesByType('resource').map((entry) => entry.name)`);
      await page.close();

      // The plain page (no COOP/COEP), driven by the keyboard only.
      const plain = await Page.open(devTools, `${url}/plain/index.html`);
      await plain.evaluate('window.playground.drawn()');
      const tabsToExpression = await plain.tabTo(`element.id === 'expression'`);
      await plain.replaceText('sin(x) * y');
      await plain.tabTo(`element.id === 'input-y'`);
      await plain.replaceText('2');
      const typed = await plain.evaluate<Snapshot>(SNAPSHOT);
      await plain.tabTo(`element.tagName === 'SUMMARY' && element.parentElement.id === 'plan-details'`);
      const planBeforeOpen = typed.planSvgNodes;
      await plain.key('Enter');
      const detailsOpen = await plain.evaluate<boolean>(`document.getElementById('plan-details').open`);
      const planOnOpen = (await plain.evaluate<Snapshot>(SNAPSHOT)).planSvgNodes;
      await plain.tabTo(`element.id === 'step'`);
      await plain.key('Enter');
      await plain.key(' ');
      const stepped = await plain.evaluate<string>(`document.getElementById('step-status').textContent`);
      const focusedOnStep = await plain.evaluate<Accessibility>(ACCESSIBILITY);
      const tabState = `(() => ({
        selected: document.querySelector('[role="tab"][aria-selected="true"]').id,
        visible: [...document.querySelectorAll('[role="tabpanel"]')].filter((p) => !p.hidden).map((p) => p.id).join(),
      }))()`;
      await plain.tabTo(`element.getAttribute('role') === 'tab'`, true);
      const tabs = [await plain.evaluate<{ selected: string; visible: string }>(tabState)];
      await plain.key('ArrowRight');
      tabs.push(await plain.evaluate(tabState));
      await plain.key('ArrowRight');
      tabs.push(await plain.evaluate(tabState));
      await plain.tabTo(`element.id === 'train-steps'`);
      await plain.replaceText('20');
      await plain.tabTo(`element.id === 'train'`);
      await plain.key('Enter');
      const plainTraining = await plain.evaluate<Training>(AWAIT_TRAINING);
      const isolated = await plain.evaluate<boolean>('crossOriginIsolated');
      keyboard = {
        tabsToExpression,
        typed,
        stepped,
        detailsOpen,
        planBeforeOpen,
        planOnOpen,
        focusedOnStep,
        tabs,
        training: plainTraining,
        isolated,
      };
      await plain.close();
      consoleLines = { isolated: page.console, plain: plain.console };
    } finally {
      devTools?.close();
      if (browser !== undefined && browser.exitCode === null) {
        const exited = new Promise((done) => browser?.once('exit', done));
        browser.kill();
        await exited;
      }
      server.close();
    }
  }, 120000);

  afterAll(() => {
    if (dir === undefined) return;
    // The screenshots stay (CI artifacts); the browser profile and the built site go.
    for (const folder of ['profile', 'site'])
      rmSync(join(dir, folder), { recursive: true, force: true, maxRetries: 5 });
    console.log(
      `playground screenshots: ${['playground', 'playground-neuron', 'playground-train'].map((name) => join(dir, `${name}.png`)).join(', ')}`,
    );
  });

  test('Graphviz is a chunk of its own beside the page script', () => {
    expect(assets.filter((file) => /^viz-.*\.js$/.test(file))).toHaveLength(1);
    expect(assets).toContain('playground.js');
  });

  test('the values are on the page before the drawings (Graphviz loads after them)', () => {
    expect(timeline.values).toBeLessThan(timeline.drawn);
    console.log(`values at ${timeline.values.toFixed(0)} ms, drawings at ${timeline.drawn.toFixed(0)} ms`);
  });

  test('the default page shows the seed example: e = 6, ∂e/∂a = 2, ∂e/∂b = 5', () => {
    expect(seed.results).toEqual(['e = 6', '∂e/∂a = 2', '∂e/∂b = 5']);
    expect(seed.error).toBe('');
  });

  test('the seed graph has five nodes (a, b, a + b, b + 1, the product): one table row and one SVG node each', () => {
    expect(expected('(a + b) * (b + 1)', { a: 2, b: 1 }).rows).toBe(5);
    expect(seed.forwardRows).toBe(5);
    expect(seed.reverseRows).toBe(5);
    expect(seed.svgNodes).toBe(5);
  });

  test("the seed graph's edges carry the local derivatives of the tutorial's figure", () => {
    expect([...seed.edgeLabels].sort()).toEqual(['∂e/∂v1 = 2', '∂e/∂v2 = 3', '∂v1/∂a = 1', '∂v1/∂b = 1', '∂v2/∂b = 1']);
  });

  test('the gradient graph, the optimized plan and the Hessian are drawn: one SVG node per graph node', () => {
    for (const [snapshot, text, feed] of [
      [seed, '(a + b) * (b + 1)', { a: 2, b: 1 }],
      [sine, 'sin(x) * y', { x: 1, y: 2 }],
      [fusing, FUSING, { x: 1, y: 2 }],
    ] as const) {
      const want = expected(text, feed);
      expect(snapshot.gradientSvgNodes).toBe(want.gradientNodes);
      expect(snapshot.gradientMarked).toBe(want.gradientOps);
      expect(want.gradientOps).toBeGreaterThan(0);
      expect(snapshot.gradientClusters).toBe(1); // the dashed cluster of what gradients added
      expect(snapshot.planSvgNodes).toBe(want.planNodes + want.planSteps);
      expect(snapshot.planSteps).toBe(want.planSteps);
      expect(snapshot.planClusters).toBe(want.planGroups);
      expect(snapshot.hessianSvgNodes).toBe(want.hessianNodes);
      expect(want.hessianNodes).toBeGreaterThan(want.gradientNodes);
    }
    expect(seed.planReport).toMatch(/^prune +nodes \d+ → \d+/);
    // The seed's gradient fuses nothing; the third expression's fuses ops into groups, each drawn as a cluster.
    expect(seed.planClusters).toBe(0);
    expect(fusing.planClusters).toBeGreaterThan(1);
    expect(fusing.planSteps).toBeGreaterThan(fusing.planClusters);
    expect(fusing.planReport).toMatch(/\nfuse +nodes \d+ → \d+ \(−\d+\) +fused \d+, groups \d+/);
  });

  test('typing sin(x) * y at x = 1, y = 2 updates the value and the gradient', () => {
    const numbers = sine.results.map((line) => Number(line.split(' = ')[1]));
    expect(sine.results.map((line) => line.split(' = ')[0])).toEqual(['e', '∂e/∂x', '∂e/∂y']);
    expect(numbers[0]).toBeCloseTo(Math.sin(1) * 2, 4);
    expect(numbers[1]).toBeCloseTo(2 * Math.cos(1), 4);
    expect(numbers[2]).toBeCloseTo(Math.sin(1), 4);
  });

  test('its tables have one row per node and its SVG one element per node', () => {
    expect(sine.forwardRows).toBe(4); // x, y, sin(x), product
    expect(sine.reverseRows).toBe(4);
    expect(sine.svgNodes).toBe(4);
  });

  test('a step (the button, then the → key) highlights one table row and its node in the drawing', () => {
    expect(sine.status).toBe('forward mode, step 2 of 4: node y');
    expect(sine.currentRows).toBe(1);
    expect(sine.currentNodes).toBe(1);
  });

  test('a parse error is shown inline and the last good result stays', () => {
    expect(broken.error).toMatch(/^column 10: expected a number/);
    expect(broken.svgNodes).toBe(4);
  });

  test('the Hessian table: [[0, 1], [1, 2]] for the seed, [[−2 sin 1, cos 1], [cos 1, 0]] for sin(x) * y', () => {
    expect(seed.hessian.map(Number)).toEqual([0, 1, 1, 2]);
    const want = [-2 * Math.sin(1), Math.cos(1), Math.cos(1), 0];
    sine.hessian.map(Number).forEach((value, k) => expect(value).toBeCloseTo(want[k], 4));
  });

  test('the difference plot draws two series, float32 and float64', () => {
    expect(seed.plotSeries).toBe(2);
    expect(sine.plotSeries).toBe(2);
  });

  test("the staged neuron: both forms give the tutorial's f, dx and dw at w = [2, −3, −3], x = [−1, −2]", () => {
    const sigma = 1 / (1 + Math.exp(-1)); // z = 2·(−1) + (−3)·(−2) − 3 = 1
    const slope = sigma * (1 - sigma);
    for (const lines of [neuron.written, neuron.staged]) {
      const [f, dx, dw] = lines.map((line) => line.split(' = ')[1]);
      expect(Number(f)).toBeCloseTo(0.7311, 4);
      const vector = (text: string): number[] => text.slice(1, -1).split(', ').map(Number);
      // The tutorial's figures, 3 decimals (its dx[1] = −0.5898…, which it truncates to −0.589).
      vector(dx).forEach((v, k) => expect(v).toBeCloseTo([2 * slope, -3 * slope][k], 4));
      expect(vector(dx).map((v) => Math.trunc(v * 1000) / 1000)).toEqual([0.393, -0.589]);
      expect(vector(dw).map((v) => Number(v.toFixed(3)))).toEqual([-0.197, -0.393, 0.197]);
    }
    // Written out: w0, x0, w1, x1, w2, two products, two sums, neg, exp, +1, ÷; staged: sigmoid replaces the last 4.
    expect(neuron.writtenNodes).toBe(13);
    expect(neuron.stagedNodes).toBe(10);
    expect(neuron.optimizedNodes).toBeGreaterThan(0);
    expect(neuron.rewrite).toMatch(/sigmoid-formula ×1/);
    expect(neuron.rewrite).toMatch(/sigmoid-gradient ×1/);
    expect(neuron.rewrite).toMatch(/now has exactly the staged form's ops/);
  });

  test('the train tab: 100 steps of the CLI demo MLP on two threads lower the loss; test digits with guesses', () => {
    expect(training.status).toMatch(
      /^step 100: loss [\d.]+, [\d.]+ ms per step \(backend wasm, 2 threads\); test accuracy/,
    );
    expect(training.points).toHaveLength(100);
    const [first, last] = [training.points[0][1], training.points[99][1]];
    expect(last).toBeGreaterThan(first); // SVG y grows downwards: a lower loss
    const accuracy = Number(/test accuracy ([\d.]+)%/.exec(training.status)?.[1]);
    expect(accuracy).toBeGreaterThan(70);
    expect(training.canvases).toBe(12);
    expect(training.digits.every((caption) => /^\d \(\d\)$/.test(caption))).toBe(true);
  });

  test('by keyboard alone: Tab to the box, type, Tab to Step and press Enter and Space', () => {
    expect(keyboard.tabsToExpression).toBeLessThanOrEqual(3);
    const numbers = keyboard.typed.results.map((line) => Number(line.split(' = ')[1]));
    expect(numbers[0]).toBeCloseTo(Math.sin(1) * 2, 4);
    expect(keyboard.typed.svgNodes).toBe(4);
    expect(keyboard.stepped).toBe('forward mode, step 2 of 4: node y');
  });

  test('by keyboard alone: a <details> opens with Enter (its drawing made then), and ←/→ switch the tabs', () => {
    expect(keyboard.detailsOpen).toBe(true);
    const want = expected('sin(x) * y', { x: 1, y: 2 });
    expect(keyboard.planBeforeOpen).toBe(0);
    expect(keyboard.planOnOpen).toBe(want.planNodes + want.planSteps);
    expect(keyboard.tabs).toEqual([
      { selected: 'tab-expression', visible: 'panel-expression' },
      { selected: 'tab-neuron', visible: 'panel-neuron' },
      { selected: 'tab-train', visible: 'panel-train' },
    ]);
  });

  test('every field has a label, every button a name, focus is outlined, results are in live regions', () => {
    expect(keyboard.focusedOnStep.unnamedFields).toEqual([]);
    expect(keyboard.focusedOnStep.unnamedButtons).toEqual([]);
    expect(keyboard.focusedOnStep.outline).toMatch(/^solid [1-9]/);
    expect(keyboard.focusedOnStep.live).toEqual([true, true, true]);
  });

  test('served without COOP/COEP the page is not isolated and trains on one thread (started by keyboard)', () => {
    expect(keyboard.isolated).toBe(false);
    expect(keyboard.training.status).toMatch(/^step 20: loss [\d.]+, [\d.]+ ms per step \(backend wasm, 1 thread\)/);
    expect(keyboard.training.points).toHaveLength(20);
  });

  test('no console errors or warnings on either page, and no request beyond the site itself', () => {
    for (const lines of [consoleLines.isolated, consoleLines.plain]) {
      expect(lines.filter((line) => /^(error|warning|exception)/.test(line))).toEqual([]);
    }
    expect(requests.some((request) => /\/assets\/viz-/.test(request))).toBe(true);
    for (const request of requests) expect(request).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  });
});

if (chromium === null) {
  test.skip('playground Chromium test skipped: no `chromium` on PATH (apt-get install chromium; CI installs it)', () => {
    // skipped on purpose
  });
}
