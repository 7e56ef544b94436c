/**
 * The playground page, three tabs. Expression: an expression box, one number field and slider per input, the values
 * and gradient as page text, the expression graph and its gradient graph (and, behind toggles, the optimized plan
 * and the Hessian's graph) drawn by Graphviz, forward- and reverse-mode tables with a step button. Every change
 * reparses, rebuilds the lazygrad graph, reruns the Session and redraws: values at once, drawings once Graphviz
 * (a chunk of its own) has loaded. Staged neuron: the tutorial's sigmoid neuron, written out and staged. Train: the
 * CLI demo's MLP learning digits.
 */
import { differenceErrors, hessianAndGradient } from './analysis';
import { toDot } from '../../src/core';
import { expressionDot } from './dot';
import { draw } from './graphviz';
import { Evaluation, evaluate } from './model';
import { neuron, NeuronForm } from './neuron';
import { Expression, parse } from './parser';
import { drawDifferencePlot, drawLossCurve } from './plot';
import { Digits, LEARNING_RATE, Trainer } from './train';

const SEED = '(a + b) * (b + 1)';
const SEED_VALUES: Record<string, number> = { a: 2, b: 1 };

/** Numbers as the tutorial prints them: at most six significant digits, no trailing zeros. */
export function show(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(6)));
}

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** When the first values and the first drawings were on the page (ms since navigation; the tests read it). */
const timeline: { values?: number; drawn?: number } = {};

const state = {
  values: { ...SEED_VALUES } as Record<string, number>,
  evaluation: null as Evaluation | null,
  mode: 'forward' as 'forward' | 'reverse',
  step: -1,
  /** Each update draws anew; a drawing that finishes after a newer update started is dropped. */
  generation: 0,
  drawing: Promise.resolve() as Promise<unknown>,
};

function cell(row: HTMLTableRowElement, text: string, header = false): void {
  const c = document.createElement(header ? 'th' : 'td');
  c.textContent = text;
  row.appendChild(c);
}

function renderInputs(inputs: string[]): void {
  const box = element('inputs');
  const present = [...box.querySelectorAll<HTMLElement>('[data-input]')].map((e) => e.dataset.input);
  if (present.join(',') === inputs.join(',')) return;
  box.replaceChildren();
  for (const name of inputs) {
    state.values[name] ??= 1;
    const field = document.createElement('div');
    field.className = 'input';
    field.dataset.input = name;
    const label = document.createElement('label');
    label.textContent = `${name} = `;
    label.htmlFor = `input-${name}`;
    const number = document.createElement('input');
    number.type = 'number';
    number.step = '0.1';
    number.id = `input-${name}`;
    number.value = String(state.values[name]);
    const slider = document.createElement('input');
    slider.type = 'range';
    slider.min = '-5';
    slider.max = '5';
    slider.step = '0.01';
    slider.value = String(state.values[name]);
    slider.setAttribute('aria-label', `${name} slider`);
    number.addEventListener('input', () => {
      if (number.value === '' || !Number.isFinite(Number(number.value))) return;
      state.values[name] = Number(number.value);
      slider.value = number.value;
      update();
    });
    slider.addEventListener('input', () => {
      state.values[name] = Number(slider.value);
      number.value = slider.value;
      update();
    });
    field.append(label, number, slider);
    box.appendChild(field);
  }
}

function renderResults(evaluation: Evaluation): void {
  const list = element('results');
  list.replaceChildren();
  const lines = [
    `e = ${show(evaluation.value)}`,
    ...evaluation.inputs.map((n, i) => `∂e/∂${n} = ${show(evaluation.gradient[i])}`),
  ];
  for (const line of lines) {
    const item = document.createElement('li');
    item.textContent = line;
    list.appendChild(item);
  }
  const n = evaluation.inputs.length;
  element('passes').textContent =
    `n = ${n} input${n === 1 ? '' : 's'}, m = 1 output: forward mode needs n = ${n} pass${n === 1 ? '' : 'es'} ` +
    `(one per input), reverse mode needs m = 1 pass (one per output). Backend: ${evaluation.backend}.`;
}

function renderTables(evaluation: Evaluation): void {
  const forward = element<HTMLTableElement>('forward');
  forward.replaceChildren();
  const head = forward.createTHead().insertRow();
  for (const title of ['node', 'expression', 'value', ...evaluation.inputs.map((n) => `∂/∂${n}`)])
    cell(head, title, true);
  const body = forward.createTBody();
  evaluation.rows.forEach((row, r) => {
    const tr = body.insertRow();
    tr.dataset.row = String(r);
    for (const text of [row.name, row.label, show(row.value), ...row.tangents.map(show)]) cell(tr, text);
  });
  const reverse = element<HTMLTableElement>('reverse');
  reverse.replaceChildren();
  const reverseHead = reverse.createTHead().insertRow();
  for (const title of ['node', 'expression', 'value', 'adjoint ∂e/∂node']) cell(reverseHead, title, true);
  const reverseBody = reverse.createTBody();
  [...evaluation.rows.keys()].reverse().forEach((r) => {
    const row = evaluation.rows[r];
    const tr = reverseBody.insertRow();
    tr.dataset.row = String(r);
    for (const text of [row.name, row.label, show(row.value), show(row.adjoint)]) cell(tr, text);
  });
}

/** Highlights the current step's node in the active table and in the drawing. */
function renderStep(): void {
  const evaluation = state.evaluation;
  if (evaluation === null) return;
  const count = evaluation.rows.length;
  const order = [...evaluation.rows.keys()];
  if (state.mode === 'reverse') order.reverse();
  const current = state.step >= 0 ? order[state.step] : -1;
  for (const id of ['forward', 'reverse']) {
    for (const tr of element(id).querySelectorAll<HTMLElement>('tbody tr')) {
      const active = id === state.mode && Number(tr.dataset.row) === current;
      tr.classList.toggle('current', active);
      const visited = id === state.mode && state.step >= 0 && order.indexOf(Number(tr.dataset.row)) <= state.step;
      tr.classList.toggle('pending', id === state.mode && state.step >= 0 && !visited);
    }
  }
  for (const g of element('graph').querySelectorAll<SVGGElement>('g.node')) {
    g.classList.toggle('current', g.id === `row-${current}`);
  }
  element('step-status').textContent =
    state.step < 0
      ? `${state.mode} mode: press Step (or →) to walk the ${count} nodes`
      : `${state.mode} mode, step ${state.step + 1} of ${count}: node ${evaluation.rows[current].name}`;
}

function step(delta: number): void {
  const evaluation = state.evaluation;
  if (evaluation === null) return;
  const count = evaluation.rows.length;
  state.step = Math.max(-1, Math.min(count - 1, state.step + delta));
  renderStep();
}

function update(): void {
  const text = element<HTMLInputElement>('expression').value;
  const error = element('error');
  const parsed = parse(text);
  if (!parsed.ok) {
    error.textContent = `column ${parsed.column}: ${parsed.message}`;
    return;
  }
  renderInputs(parsed.inputs);
  let evaluation: Evaluation;
  try {
    const feed = Object.fromEntries(parsed.inputs.map((name) => [name, state.values[name]]));
    evaluation = evaluate(parsed.expression, parsed.inputs, feed);
  } catch (caught) {
    error.textContent = caught instanceof Error ? caught.message : String(caught);
    return;
  }
  error.textContent = '';
  state.evaluation = evaluation;
  state.step = Math.min(state.step, evaluation.rows.length - 1);
  renderResults(evaluation);
  timeline.values ??= performance.now();
  renderTables(evaluation);
  renderStep();
  const hessian = renderHigherOrder(parsed.expression, parsed.inputs, feedOf(parsed.inputs));
  const { plan } = evaluation;
  element('gradient-count').textContent = `${evaluation.gradientNodes} nodes.`;
  element('plan-count').textContent =
    `${plan.nodes} nodes after optimization, ${plan.groups} fused group${plan.groups === 1 ? '' : 's'} ` +
    `(${plan.steps} ops). The passes, in order:`;
  element('plan-report').textContent = evaluation.report.join('\n');
  element('hessian-count').textContent = `(${hessian.nodes} nodes)`;
  const generation = ++state.generation;
  const stale = (): boolean => generation !== state.generation;
  state.drawing = Promise.all([
    draw(
      element('graph'),
      expressionDot(evaluation.rows, 'row'),
      `computational graph with ${evaluation.rows.length} nodes`,
      stale,
    ),
    draw(
      element('gradient-graph'),
      gradientDot(evaluation),
      `gradient graph with ${evaluation.gradientNodes} nodes`,
      stale,
    ),
    drawWhenOpen({
      container: element('plan'),
      dot: plan.dot,
      label: `optimized graph with ${plan.nodes} nodes and ${plan.groups} fused groups`,
      generation,
    }),
    drawWhenOpen({
      container: element('hessian-graph'),
      dot: hessian.dot,
      label: `Hessian graph with ${hessian.nodes} nodes`,
      generation,
    }),
  ]).then(() => {
    if (stale()) return;
    renderStep();
    timeline.drawn ??= performance.now();
  }, showDrawingError);
}

/** A drawing behind a toggle: drawn only while its `<details>` is open (the larger graphs take the longest). */
interface LazyDrawing {
  readonly container: HTMLElement;
  readonly dot: string;
  readonly label: string;
  /** The update it belongs to. */
  readonly generation: number;
}

const lazyDrawings = new Map<HTMLElement, LazyDrawing>();

/** Draws `drawing` now if its toggle is open, else when it opens; a closed one drops its outdated picture. */
function drawWhenOpen(drawing: LazyDrawing): Promise<unknown> {
  const { container } = drawing;
  lazyDrawings.set(container, drawing);
  const details = container.closest('details') as HTMLDetailsElement;
  if (container.dataset.generation === String(drawing.generation)) return Promise.resolve();
  if (!details.open) {
    container.replaceChildren();
    return Promise.resolve();
  }
  const stale = (): boolean => drawing.generation !== state.generation;
  return draw(container, drawing.dot, drawing.label, stale).then((drew) => {
    if (drew) container.dataset.generation = String(drawing.generation);
  });
}

function gradientDot(evaluation: Evaluation): string {
  return toDot(evaluation.fetches, { tooltips: true });
}

function showDrawingError(caught: unknown): void {
  element('error').textContent = `drawing failed: ${caught instanceof Error ? caught.message : String(caught)}`;
}

function feedOf(inputs: string[]): Record<string, number> {
  return Object.fromEntries(inputs.map((name) => [name, state.values[name]]));
}

/** The difference plot for the chosen input and the Hessian table; returns the Hessian's graph to draw. */
function renderHigherOrder(
  expression: Expression,
  inputs: string[],
  feed: Record<string, number>,
): { dot: string; nodes: number } {
  const select = element<HTMLSelectElement>('difference-input');
  if ([...select.options].map((o) => o.value).join(',') !== inputs.join(',')) {
    select.replaceChildren(...inputs.map((name) => new Option(name, name)));
  }
  const chosen = Math.max(0, inputs.indexOf(select.value));
  const errors = differenceErrors(expression, inputs, feed)[chosen];
  element('difference-plot').replaceChildren(
    drawDifferencePlot([
      { label: 'float32', errors: errors.float32, className: 'float32' },
      { label: 'float64', errors: errors.float64, className: 'float64' },
    ]),
  );
  const best = (values: number[]): string => show(Math.min(...values));
  element('difference-summary').textContent =
    `∂e/∂${inputs[chosen]}: smallest error ${best(errors.float32)} in float32, ${best(errors.float64)} in float64; ` +
    'automatic differentiation has no step to choose.';
  const { hessian, dot, nodes } = hessianAndGradient(expression, inputs, feed);
  const table = element<HTMLTableElement>('hessian');
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  cell(head, '', true);
  for (const name of inputs) cell(head, `∂/∂${name}`, true);
  const body = table.createTBody();
  inputs.forEach((name, i) => {
    const tr = body.insertRow();
    cell(tr, `∂²e/∂${name}·`, true);
    for (const value of hessian[i]) cell(tr, show(value));
  });
  return { dot, nodes };
}

/** The neuron tab: both forms' values and gradients at once, their drawings once Graphviz has loaded. */
function renderNeuron(): Promise<unknown> {
  const result = neuron();
  const results = (id: string, f: NeuronForm): void => {
    const vector = (values: number[]): string => `[${values.map(show).join(', ')}]`;
    element(`neuron-${id}-expression`).textContent = `f = ${f.expression}`;
    element(`neuron-${id}-results`).replaceChildren(
      ...[`f = ${show(f.f)}`, `dx = ${vector(f.dx)}`, `dw = ${vector(f.dw)}`].map((text) => {
        const item = document.createElement('li');
        item.textContent = text;
        return item;
      }),
    );
  };
  results('written', result.written);
  results('staged', result.staged);
  const rules = Object.entries(result.rules)
    .map(([rule, count]) => `${rule} ×${count}`)
    .join(', ');
  const same = result.forwardOps.optimized.join(',') === result.forwardOps.staged.join(',');
  element('neuron-rewrite').textContent =
    `optimize(g, [f, ∂f/∂inputs]) (fusion off, so the rewrites show) fired: ${rules}. The stabilize pass's ` +
    `sigmoid-formula rule turns 1 / (1 + exp(−z)) into one sigmoid node and sigmoid-gradient turns its gradient ` +
    `into σ(z)(1 − σ(z)): the gradient graph goes from ${result.before} to ${result.after} nodes (the staged form ` +
    `has ${result.stagedNodes} before optimizing), and the forward graph ` +
    (same
      ? `now has exactly the staged form's ops (${result.forwardOps.staged.filter((op) => op !== 'placeholder').join(', ')}).`
      : `has ops ${result.forwardOps.optimized.join(', ')} (the staged form: ${result.forwardOps.staged.join(', ')}).`);
  element('neuron-report').textContent = result.report.join('\n');
  const never = (): boolean => false;
  return Promise.all([
    draw(
      element('neuron-written-graph'),
      expressionDot(result.written.evaluation.rows, 'written'),
      `written-out neuron, ${result.written.evaluation.rows.length} nodes`,
      never,
    ),
    draw(
      element('neuron-staged-graph'),
      expressionDot(result.staged.evaluation.rows, 'staged'),
      `staged neuron, ${result.staged.evaluation.rows.length} nodes`,
      never,
    ),
    draw(
      element('neuron-optimized-graph'),
      result.dot,
      `the written-out neuron's gradient graph after optimize, ${result.dotNodes} nodes`,
      never,
    ),
  ]);
}

const isolated = typeof crossOriginIsolated === 'boolean' && crossOriginIsolated;

const training = {
  digits: null as Digits | null,
  trainer: null as Trainer | null,
  losses: [] as number[],
  running: false,
};

/** A number field's value within [min, max], else `fallback`. */
function fieldValue(id: string, fallback: number): number {
  const field = element<HTMLInputElement>(id);
  const value = Number(field.value);
  return field.value !== '' && Number.isFinite(value) && value >= Number(field.min) && value <= Number(field.max)
    ? value
    : fallback;
}

/** The first test digits with the model's guesses, as small pictures. */
function renderDigits(trainer: Trainer): void {
  const { images, labels, predicted } = trainer.predictions(12);
  element('digits').replaceChildren(
    ...images.map((pixels, i) => {
      const figure = document.createElement('figure');
      const canvas = document.createElement('canvas');
      canvas.width = 28;
      canvas.height = 28;
      const context = canvas.getContext('2d') as CanvasRenderingContext2D;
      const picture = context.createImageData(28, 28);
      pixels.forEach((v, k) => {
        const grey = 255 - Math.round(v * 255);
        picture.data.set([grey, grey, grey, 255], k * 4);
      });
      context.putImageData(picture, 0, 0);
      const right = predicted[i] === labels[i];
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `a handwritten ${labels[i]}`);
      const caption = document.createElement('figcaption');
      caption.textContent = `${predicted[i]} (${labels[i]})`;
      caption.className = right ? 'right' : 'wrong';
      figure.append(canvas, caption);
      return figure;
    }),
  );
}

/** Runs the chosen number of optimizer steps, one per animation frame, redrawing the loss curve and the step time. */
async function runTraining(): Promise<void> {
  if (training.running) return;
  training.running = true;
  const status = element('train-status');
  const steps = Math.round(fieldValue('train-steps', 100));
  const rate = fieldValue('train-rate', LEARNING_RATE);
  try {
    if (training.digits === null) {
      status.textContent = 'loading the digits…';
      training.digits = await Trainer.fetchDigits('assets/digits.bin');
    }
    if (training.trainer === null) {
      const threads = Number(element<HTMLSelectElement>('train-threads').value) === 2 ? 2 : 1;
      training.trainer = await Trainer.start(training.digits, threads);
    }
    const trainer = training.trainer;
    for (let k = 0; k < steps && training.running; k++) {
      const progress = trainer.step(rate);
      training.losses.push(progress.loss);
      element('loss-curve').replaceChildren(drawLossCurve(training.losses));
      status.textContent =
        `step ${progress.step}: loss ${show(progress.loss)}, ${progress.milliseconds.toFixed(1)} ms per step ` +
        `(backend ${trainer.session.backend}, ${trainer.session.threads} thread${trainer.session.threads === 1 ? '' : 's'})`;
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    status.textContent += `; test accuracy ${(trainer.accuracy() * 100).toFixed(1)}% on 500 test digits`;
    renderDigits(trainer);
  } catch (caught) {
    status.textContent = `training failed: ${caught instanceof Error ? caught.message : String(caught)}`;
  } finally {
    training.running = false;
  }
}

/** A fresh model: the next Train starts from the CLI's initial weights, with the threads chosen. */
function resetTraining(): void {
  training.running = false;
  training.trainer = null;
  training.losses = [];
  element('loss-curve').replaceChildren();
  element('digits').replaceChildren();
  element('train-status').textContent = 'the model is reset: Train starts from its initial weights';
}

/** The tabs, as the ARIA authoring practices have them: ←/→ (Home/End) move between tabs and select them. */
function setUpTabs(): void {
  const tabs = [...document.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
  const select = (tab: HTMLButtonElement, focus: boolean): void => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute('aria-selected', String(selected));
      other.tabIndex = selected ? 0 : -1;
      element(other.getAttribute('aria-controls') as string).hidden = !selected;
    }
    if (focus) tab.focus();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(tab, false));
    tab.addEventListener('keydown', (event) => {
      const next = {
        ArrowRight: (i + 1) % tabs.length,
        ArrowLeft: (i - 1 + tabs.length) % tabs.length,
        Home: 0,
        End: tabs.length - 1,
      }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      event.stopPropagation();
      select(tabs[next], true);
    });
  });
}

function start(): void {
  const threads = element<HTMLSelectElement>('train-threads');
  threads.value = isolated ? '2' : '1';
  (threads.options[1] as HTMLOptionElement).disabled = !isolated;
  element('isolation').textContent = isolated
    ? 'This page is cross-origin isolated: the session can use two threads.'
    : 'This page is not cross-origin isolated (no COOP/COEP headers), so the session runs on one thread; ' +
      '`npm run playground` serves it with them.';
  element('train').addEventListener('click', () => void runTraining());
  element('train-stop').addEventListener('click', () => (training.running = false));
  element('train-reset').addEventListener('click', resetTraining);
  threads.addEventListener('change', resetTraining);
  const box = element<HTMLInputElement>('expression');
  box.value = SEED;
  box.addEventListener('input', update);
  element('step').addEventListener('click', () => step(1));
  element('difference-input').addEventListener('change', update);
  element('back').addEventListener('click', () => step(-1));
  element('reset').addEventListener('click', () => {
    state.step = -1;
    renderStep();
  });
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
    radio.addEventListener('change', () => {
      state.mode = radio.value as 'forward' | 'reverse';
      state.step = -1;
      renderStep();
    });
  }
  document.addEventListener('keydown', (event) => {
    // Fields, radios, the select and the tabs keep their own arrow keys; stepping is the Expression tab's.
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement) return;
    if (target instanceof HTMLElement && target.getAttribute('role') === 'tab') return;
    if (element('panel-expression').hidden) return;
    if (event.key === 'ArrowRight' || event.key === 'n') step(1);
    else if (event.key === 'ArrowLeft' || event.key === 'p') step(-1);
    else return;
    event.preventDefault();
  });
  setUpTabs();
  for (const id of ['plan', 'hessian-graph']) {
    const details = element(id).closest('details') as HTMLDetailsElement;
    details.addEventListener('toggle', () => {
      const drawing = lazyDrawings.get(element(id));
      if (details.open && drawing !== undefined) {
        state.drawing = Promise.all([state.drawing, drawWhenOpen(drawing)]).catch(showDrawingError);
      }
    });
  }
  update();
  // The neuron is computed up front too (a few milliseconds), so its tab is ready when opened.
  const neuronDrawn = renderNeuron().catch(showDrawingError);
  (window as unknown as { playground: unknown }).playground = {
    ready: true,
    /** Resolves once the latest drawings are on the page (the tests wait for it). */
    drawn: () => Promise.all([state.drawing, neuronDrawn]),
    timeline,
  };
}

start();
