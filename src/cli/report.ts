/**
 * The files a training run leaves in its output folder: loss and accuracy curves (hand-written SVG), pictures of
 * the model's graphs (Graphviz in WebAssembly), the checkpoint, and an HTML page linking them.
 */
import { decodeSafetensors, exportOnnx, formatGraph, optimize, renderSvg, serializeGraph, Tensor } from '..';
import { escapeXml, lineChart, Series } from './chart';
import { IMAGE_SIZE } from './mnist';
import { describeModel, TrainConfig, TrainResult } from './model';
import { formatCount, percent } from './progress';
import type { NodeApi } from './node';

/** What the report describes besides the training result. */
export interface RunInfo {
  readonly config: TrainConfig;
  readonly result: TrainResult;
  readonly trainSamples: number;
  readonly testSamples: number;
  /** The command that reproduces the run. */
  readonly command: string;
}

/** A written file and what it holds. */
export interface ReportFile {
  readonly name: string;
  readonly description: string;
}

const MAX_CURVE_POINTS = 600;

/** Averages consecutive batch losses so a long run still draws a few hundred points. */
function downsample(values: readonly number[], stepsPerEpoch: number): [number, number][] {
  const group = Math.max(1, Math.ceil(values.length / MAX_CURVE_POINTS));
  const points: [number, number][] = [];
  for (let start = 0; start < values.length; start += group) {
    const slice = values.slice(start, start + group);
    const middle = start + slice.length / 2;
    points.push([middle / stepsPerEpoch, slice.reduce((a, b) => a + b, 0) / slice.length]);
  }
  return points;
}

/** The loss and accuracy curves as SVG, with a dashed line at the target accuracy. */
export function curvesSvg(result: TrainResult, target = 0.95): string {
  const { history, batchLosses } = result;
  const stepsPerEpoch = history.length === 0 ? 1 : batchLosses.length / history.length;
  const epochs = (pick: (e: (typeof history)[number]) => number): [number, number][] =>
    history.map((e) => [e.epoch, pick(e)]);
  const accuracies = history.flatMap((e) => [e.trainAccuracy, e.testAccuracy]);
  const lowest = Math.min(0.9, ...accuracies);
  const loss: Series[] = [
    { name: 'batch loss', color: '#2563eb', points: downsample(batchLosses, stepsPerEpoch), faint: true },
    { name: 'train loss (epoch)', color: '#1d4ed8', points: epochs((e) => e.loss), markers: true },
    { name: 'test loss', color: '#dc2626', points: epochs((e) => e.testLoss), markers: true, dashed: true },
  ];
  const accuracy: Series[] = [
    { name: 'train accuracy', color: '#1d4ed8', points: epochs((e) => e.trainAccuracy), markers: true },
    { name: 'test accuracy', color: '#dc2626', points: epochs((e) => e.testAccuracy), markers: true },
    {
      name: `target ${Math.round(target * 100)}%`,
      color: '#6b7280',
      points: [
        [0, target],
        [Math.max(1, history.length), target],
      ],
      dashed: true,
    },
  ];
  return lineChart(
    [
      { title: 'Cross-entropy loss', xLabel: 'epoch', yLabel: 'loss', series: loss, yMin: 0 },
      {
        title: 'Accuracy',
        xLabel: 'epoch',
        yLabel: 'accuracy',
        series: accuracy,
        yMin: Math.floor(lowest * 20) / 20,
        yMax: 1,
        formatY: (v) => `${Math.round(v * 100)}%`,
      },
    ],
    'lazygrad: MNIST training curves',
  );
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = `<tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeXml(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n${head}\n${body}\n</table>`;
}

function html(info: RunInfo, files: readonly ReportFile[], checkpoint: Uint8Array): string {
  const { config, result } = info;
  const parameters = result.model.parameters.reduce((n, p) => n + (p.shape as number[]).reduce((a, b) => a * b, 1), 0);
  const summary = table(
    ['setting', 'value'],
    [
      ['model', `${describeModel(config)}, ${formatCount(parameters)} parameters`],
      ['data', `${formatCount(info.trainSamples)} training and ${formatCount(info.testSamples)} test digits`],
      ['optimizer', `${config.optimizer}, learning rate ${config.learningRate} with cosine decay`],
      ['batch size, epochs, seed', `${config.batchSize}, ${config.epochs}, ${config.seed}`],
      ['augmentation', config.augment ? 'random shifts of up to one pixel' : 'none'],
    ],
  );
  const epochs = table(
    ['epoch', 'train loss', 'train accuracy', 'test loss', 'test accuracy', 'samples/s', 'seconds'],
    result.history.map((e) => [
      String(e.epoch),
      e.loss.toFixed(4),
      percent(e.trainAccuracy, 2),
      e.testLoss.toFixed(4),
      percent(e.testAccuracy, 2),
      formatCount(e.samplesPerSecond),
      e.seconds.toFixed(1),
    ]),
  );
  const tensors = [...decodeSafetensors(checkpoint).tensors].map(([name, value]) => [
    name,
    value.dtype,
    `[${value.shape.join(', ')}]`,
  ]);
  const links = files
    .filter((f) => f.name !== 'index.html')
    .map((f) => `<li><a href="${escapeXml(f.name)}">${escapeXml(f.name)}</a>: ${escapeXml(f.description)}</li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lazygrad: MNIST demo report</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #111827; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #d1d5db; padding: 4px 10px; text-align: left; }
pre { background: #f3f4f6; padding: 1em; overflow-x: auto; font-size: 12px; }
img { max-width: 100%; }
</style>
</head>
<body>
<h1>lazygrad: ${config.model === 'cnn' ? 'a CNN' : 'an MLP'} learns MNIST digits</h1>
<p>Test accuracy <b>${percent(result.testAccuracy, 2)}</b> on ${formatCount(info.testSamples)} held-out digits
after ${config.epochs} epoch${config.epochs === 1 ? '' : 's'}, in ${result.seconds.toFixed(1)} s of training and
evaluation.</p>
${summary}
<h2>Training curves</h2>
<p><img src="curves.svg" alt="loss and accuracy per epoch"></p>
${epochs}
<h2>Files</h2>
<ul>
${links}
</ul>
<h2>Checkpoint</h2>
<p><code>model.safetensors</code> holds every variable of the session (${formatCount(checkpoint.length)}
bytes, safetensors format), the optimizer's slots included; <code>sess.restore(path)</code> loads it back.</p>
${table(['name', 'dtype', 'shape'], tensors)}
<h2>The forward graph as text IR</h2>
<pre>${escapeXml(formatGraph([result.model.loss, result.model.correct]))}</pre>
<p>Reproduce: <code>${escapeXml(info.command)}</code></p>
</body>
</html>
`;
}

/**
 * Writes the report files into `outDir` (created if needed): curves.svg, forward.svg, gradients.svg,
 * optimized.svg, train-step.svg, model.onnx, graph.json, model.safetensors and index.html. Returns what it wrote.
 */
export async function writeReport(outDir: string, info: RunInfo, node: NodeApi): Promise<ReportFile[]> {
  const { model, session } = info.result;
  node.fs.mkdirSync(outDir, { recursive: true });
  const files: ReportFile[] = [];
  const write = (name: string, content: string | Uint8Array, description: string): void => {
    node.fs.writeFileSync(node.path.join(outDir, name), content);
    files.push({ name, description });
  };
  write('curves.svg', curvesSvg(info.result, info.config.model === 'cnn' ? 0.98 : 0.95), 'loss and accuracy per epoch');
  const forward: Tensor[] = [model.loss, model.correct];
  write('forward.svg', await renderSvg(forward, { title: 'forward: loss and accuracy' }), "the model's forward graph");
  write(
    'gradients.svg',
    await renderSvg([...model.gradients], { title: 'gradients of the loss for each parameter' }),
    'the gradient graph that gradients() appended (pink), with the forward nodes it reads',
  );
  const batch = Math.min(info.config.batchSize, info.trainSamples);
  const shapes = new Map<Tensor, number[]>([
    [model.images, [batch, IMAGE_SIZE]],
    [model.labels, [batch]],
  ]);
  const optimized = optimize(model.graph, [...model.gradients], { shapes });
  write(
    'optimized.svg',
    await renderSvg(optimized.outputs, { title: `the gradient graph as the session compiles it (batch ${batch})` }),
    'the same gradients after the optimization passes: folded, simplified, fused (purple)',
  );
  write(
    'train-step.svg',
    await renderSvg(model.trainOp, { title: `one ${info.config.optimizer} step, name scopes collapsed`, collapse: 40 }),
    'the whole training step (forward, gradients and optimizer update) with name scopes collapsed into boxes',
  );
  write(
    'model.onnx',
    exportOnnx(model.graph, {
      inputs: [model.images],
      outputs: { logits: model.logits },
      values: session.variableValues(),
    }),
    'the trained model as ONNX (images [?, 784] in, logits [?, 10] out), for ONNX Runtime and other tools',
  );
  write(
    'graph.json',
    serializeGraph(model.graph),
    "the whole training graph in lazygrad's JSON graph format, with initial values: try " +
      `lazygrad inspect ${node.path.join(outDir, 'graph.json')}`,
  );
  const checkpoint = session.serializeVariables();
  const checkpointPath = node.path.join(outDir, 'model.safetensors');
  session.save(checkpointPath);
  files.push({ name: 'model.safetensors', description: 'the checkpoint: every variable, optimizer slots included' });
  write('index.html', html(info, files, checkpoint), 'this report');
  return files;
}
