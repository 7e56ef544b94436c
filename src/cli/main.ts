/**
 * `lazygrad <command>`: dispatches to a command, prints usage for `--help`, and turns errors into exit codes:
 * 0 done, 1 failed, 2 bad arguments (with a one-line message and the usage).
 */
import { closest, formatUsage, parseArgs, UsageError } from './args';
import { Command, COMMANDS, Io } from './commands';
import { nodeApi } from './node';

const PROGRAM = 'lazygrad';

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'lazygrad: automatic differentiation on lazy, symbolic graphs (TensorFlow 1.x style).',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`),
    `  ${'help'.padEnd(width)}  Show the help of a command.`,
    '',
    `Run '${PROGRAM} <command> --help' for a command's options.`,
  ].join('\n');
}

function processIo(): Io {
  const { process } = nodeApi();
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    stream: process.stdout,
  };
}

/**
 * Runs the CLI with arguments (without `node` and the script) and returns the exit code.
 *
 * @example process.exitCode = await main(['demo', '--epochs', '1'])
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  let command: Command | undefined;
  try {
    if (name === undefined) throw new UsageError('missing a command', null);
    if (name === '--help' || name === '-h') {
      io.out(`${overview()}\n`);
      return 0;
    }
    if (name === 'help') {
      const topic = COMMANDS.find((c) => c.spec.name === rest[0]);
      if (rest.length > 0 && topic === undefined) throw new UsageError(`help: unknown command '${rest[0]}'`, null);
      io.out(`${topic === undefined ? overview() : formatUsage(PROGRAM, topic.spec)}\n`);
      return 0;
    }
    command = COMMANDS.find((c) => c.spec.name === name);
    if (command === undefined) {
      const guess = closest(
        name,
        COMMANDS.map((c) => c.spec.name),
      );
      throw new UsageError(`unknown command '${name}'${guess === undefined ? '' : `; did you mean ${guess}?`}`, null);
    }
    const args = parseArgs(command.spec, rest);
    if (args.help) {
      io.out(`${formatUsage(PROGRAM, command.spec)}\n`);
      return 0;
    }
    return await command.run(args, io, nodeApi());
  } catch (error) {
    if (error instanceof UsageError) {
      const usage = error.command === null ? overview() : formatUsage(PROGRAM, error.command);
      io.err(`${PROGRAM}: ${error.message}\n\n${usage}\n`);
      return 2;
    }
    io.err(`${PROGRAM}${command === undefined ? '' : ` ${command.spec.name}`}: ${(error as Error).message}\n`);
    return 1;
  }
}
