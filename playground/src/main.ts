/**
 * The playground page: an expression box, one number field and slider per input, the values and gradient as page
 * text, forward- and reverse-mode tables with a step button, and the graph as inline SVG. Every change reparses,
 * rebuilds the lazygrad graph, reruns the Session and redraws.
 */
import { differenceErrors, hessianAndGradient } from './analysis';
import { Evaluation, evaluate } from './model';
import { Expression, parse } from './parser';
import { drawDifferencePlot, drawLossCurve } from './plot';
import { Trainer } from './train';
import { drawGraph } from './svg';

const SEED = '(a + b) * (b + 1)';
const SEED_VALUES: Record<string, number> = { a: 2, b: 1 };

/** Numbers as the tutorial prints them: at most six significant digits, no trailing zeros. */
export function show(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(6)));
}

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const state = {
  values: { ...SEED_VALUES } as Record<string, number>,
  evaluation: null as Evaluation | null,
  mode: 'forward' as 'forward' | 'reverse',
  step: -1,
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
    g.classList.toggle('current', Number(g.dataset.row) === current);
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
  renderTables(evaluation);
  element('graph').replaceChildren(drawGraph(evaluation));
  element('gradient-graph').textContent = evaluation.gradientGraph;
  element('plan').textContent = evaluation.plan;
  renderStep();
  renderHigherOrder(parsed.expression, parsed.inputs, feedOf(parsed.inputs));
}

function feedOf(inputs: string[]): Record<string, number> {
  return Object.fromEntries(inputs.map((name) => [name, state.values[name]]));
}

/** The difference plot for the chosen input and the Hessian table. */
function renderHigherOrder(expression: Expression, inputs: string[], feed: Record<string, number>): void {
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
  const { hessian } = hessianAndGradient(expression, inputs, feed);
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
}

const training = { trainer: null as Trainer | null, losses: [] as number[], running: false };

/** Runs `steps` optimizer steps, one per animation frame, redrawing the loss curve and the step time. */
async function runTraining(steps: number): Promise<void> {
  if (training.running) return;
  training.running = true;
  const status = element('train-status');
  try {
    if (training.trainer === null) {
      status.textContent = 'loading the digits…';
      training.trainer = await Trainer.load('assets/digits.bin');
    }
    const trainer = training.trainer;
    for (let k = 0; k < steps && training.running; k++) {
      const progress = trainer.step();
      training.losses.push(progress.loss);
      element('loss-curve').replaceChildren(drawLossCurve(training.losses));
      status.textContent =
        `step ${progress.step}: loss ${show(progress.loss)}, ${progress.milliseconds.toFixed(1)} ms per step ` +
        `(backend ${trainer.session.backend}, ${trainer.session.threads} thread${trainer.session.threads === 1 ? '' : 's'})`;
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    status.textContent += `; test accuracy ${(trainer.accuracy() * 100).toFixed(1)}%`;
  } catch (caught) {
    status.textContent = `training failed: ${caught instanceof Error ? caught.message : String(caught)}`;
  } finally {
    training.running = false;
  }
}

function start(): void {
  element('train').addEventListener('click', () => void runTraining(100));
  element('train-stop').addEventListener('click', () => (training.running = false));
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
    // Fields, radios and the select keep their own arrow keys.
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    if (event.key === 'ArrowRight' || event.key === 'n') step(1);
    else if (event.key === 'ArrowLeft' || event.key === 'p') step(-1);
    else return;
    event.preventDefault();
  });
  update();
}

start();
(window as unknown as { playground: { ready: boolean } }).playground = { ready: true };
