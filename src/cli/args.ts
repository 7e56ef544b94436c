/**
 * Command-line flags: each command declares its flags once, and the same declaration parses, validates and prints
 * the usage text, so the help never disagrees with what is accepted.
 */

/** A mistake in the arguments: the CLI prints the message and the usage, and exits with code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: CommandSpec | null,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagValue = number | string | boolean;

export interface FlagSpec {
  readonly name: string;
  readonly kind: 'integer' | 'number' | 'string' | 'boolean';
  readonly description: string;
  readonly default?: FlagValue;
  /** The valid values of a string flag. */
  readonly choices?: readonly string[];
  /** The smallest valid value of a number flag. */
  readonly min?: number;
  /** The name shown for the value in the usage (`--epochs N`). */
  readonly placeholder?: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
}

export interface CommandSpec {
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** A paragraph for the command's help (the summary when absent). */
  readonly description?: string;
  readonly positionals: readonly PositionalSpec[];
  readonly flags: readonly FlagSpec[];
  /** Extra lines after the flags: examples, notes. */
  readonly notes?: readonly string[];
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Every flag of the spec: the given value or its default (undefined when it has none). */
  readonly flags: ReadonlyMap<string, FlagValue | undefined>;
  readonly help: boolean;
}

function parseValue(spec: CommandSpec, flag: FlagSpec, raw: string): FlagValue {
  const where = `${spec.name} --${flag.name}`;
  if (flag.kind === 'string') {
    if (flag.choices !== undefined && !flag.choices.includes(raw)) {
      throw new UsageError(`${where}: '${raw}' is not one of ${flag.choices.join(', ')}`, spec);
    }
    return raw;
  }
  if (flag.kind === 'boolean') {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new UsageError(`${where}: expected true or false, got '${raw}'`, spec);
  }
  const value = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(value) || (flag.kind === 'integer' && !Number.isInteger(value))) {
    throw new UsageError(
      `${where}: expected ${flag.kind === 'integer' ? 'an integer' : 'a number'}, got '${raw}'`,
      spec,
    );
  }
  if (flag.min !== undefined && value < flag.min) {
    throw new UsageError(`${where}: must be at least ${flag.min}, got ${raw}`, spec);
  }
  return value;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
}

/** The known name nearest to a mistyped one, if it is near enough. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = candidate.startsWith(name) ? 1 : distance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/**
 * Parses `--name value`, `--name=value` and boolean `--name`; anything not starting with `--` is a positional.
 * `--help` / `-h` anywhere asks for the usage.
 */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const flags = new Map<string, FlagValue | undefined>(spec.flags.map((f) => [f.name, f.default]));
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    const flag = match === null ? undefined : spec.flags.find((f) => f.name === match[1]);
    if (match === null || flag === undefined) {
      const guess =
        match === null
          ? undefined
          : closest(
              match[1],
              spec.flags.map((f) => f.name),
            );
      const hint = guess === undefined ? '' : `; did you mean --${guess}?`;
      throw new UsageError(`${spec.name}: unknown option '${arg}'${hint}`, spec);
    }
    let raw = match[2];
    if (raw === undefined && flag.kind === 'boolean') raw = 'true';
    if (raw === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${spec.name} --${flag.name}: needs a value`, spec);
      raw = argv[++i];
    }
    flags.set(flag.name, parseValue(spec, flag, raw));
  }
  if (!help && positionals.length > spec.positionals.length) {
    throw new UsageError(`${spec.name}: unexpected argument '${positionals[spec.positionals.length]}'`, spec);
  }
  if (!help && positionals.length < spec.positionals.length) {
    throw new UsageError(`${spec.name}: missing <${spec.positionals[positionals.length].name}>`, spec);
  }
  return { positionals, flags, help };
}

/** Breaks text into lines of at most `width` columns. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

const HELP_WIDTH = 100;

/** The usage text of one command. */
export function formatUsage(program: string, spec: CommandSpec): string {
  const positionals = spec.positionals.map((p) => ` <${p.name}>`).join('');
  const lines = [`Usage: ${program} ${spec.name}${positionals}${spec.flags.length > 0 ? ' [options]' : ''}`, ''];
  lines.push(...wrap(spec.description ?? spec.summary, HELP_WIDTH));
  const rows: [string, string][] = spec.positionals.map((p) => [`<${p.name}>`, p.description]);
  for (const flag of spec.flags) {
    const value = flag.kind === 'boolean' ? '' : ` ${flag.placeholder ?? 'VALUE'}`;
    const choices = flag.choices === undefined ? '' : `: ${flag.choices.join(', ')}`;
    const extra = flag.default === undefined || flag.kind === 'boolean' ? '' : ` (default ${String(flag.default)})`;
    rows.push([`--${flag.name}${value}`, `${flag.description}${choices}${extra}`]);
  }
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([left]) => left.length));
  lines.push('');
  for (const [left, right] of rows) {
    const [first, ...more] = wrap(right, HELP_WIDTH - width - 4);
    lines.push(`  ${left.padEnd(width)}  ${first ?? ''}`, ...more.map((line) => `${' '.repeat(width + 4)}${line}`));
  }
  if (spec.notes !== undefined) lines.push('', ...spec.notes);
  return lines.join('\n');
}

/** A flag's value with the type its spec gives. */
export function numberFlag(args: ParsedArgs, name: string): number {
  return args.flags.get(name) as number;
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name) as string | undefined;
}

export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}
