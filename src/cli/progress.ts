/**
 * A one-line progress bar for training. On a terminal it redraws itself in place; elsewhere (logs, CI, a pipe)
 * it prints one line per epoch, so logs stay readable.
 */
import type { EpochStats, Progress } from './model';
import type { OutputStream } from './node';

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function percent(value: number, digits = 1): string {
  return `${(value * 100).toFixed(digits)}%`;
}

function bar(fraction: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

function epochLabel(epoch: number, epochs: number): string {
  return `epoch ${String(epoch).padStart(String(epochs).length)}/${epochs}`;
}

export class ProgressBar {
  private lastDraw = -Infinity;
  private width = 0;

  constructor(
    private readonly stream: OutputStream,
    private readonly now: () => number = Date.now,
  ) {}

  private get live(): boolean {
    return this.stream.isTTY === true;
  }

  private draw(line: string, final: boolean): void {
    const padding = ' '.repeat(Math.max(0, this.width - line.length));
    this.width = final ? 0 : line.length;
    this.stream.write(`\r${line}${padding}${final ? '\n' : ''}`);
  }

  /** Redraws the bar (at most every 100 ms) on a terminal; prints nothing elsewhere. */
  update(progress: Progress): void {
    if (!this.live) return;
    const time = this.now();
    if (time - this.lastDraw < REDRAW_MS && progress.samples < progress.samplesPerEpoch) return;
    this.lastDraw = time;
    const fraction = progress.samples / progress.samplesPerEpoch;
    const line =
      `${epochLabel(progress.epoch, progress.epochs)} ${bar(fraction)} ${percent(fraction, 0).padStart(4)}  ` +
      `loss ${progress.loss.toFixed(4)}  ${formatCount(progress.samplesPerSecond)} samples/s`;
    this.draw(line, false);
  }

  /** The epoch's final line: loss, accuracies, throughput and time. */
  epoch(stats: EpochStats, epochs: number): void {
    const line =
      `${epochLabel(stats.epoch, epochs)} ${bar(1)} 100%  loss ${stats.loss.toFixed(4)}  ` +
      `train ${percent(stats.trainAccuracy)}  test ${percent(stats.testAccuracy)}  ` +
      `${formatCount(stats.samplesPerSecond)} samples/s  ${stats.seconds.toFixed(1)} s`;
    if (this.live) this.draw(line, true);
    else this.stream.write(`${line}\n`);
  }
}
