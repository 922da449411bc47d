import { hostname } from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { UnparsedMode } from './convert.js';
import { parseSize } from './size.js';
import { parseZone, type Zone } from './timezone.js';
import { VERSION } from './version.js';

/** Everything a run needs to know, as parsed from the command line. */
export interface Options {
  /** Inputs in order; `-` is standard input. Default: `['-']`. */
  files: string[];
  /** One event per row of batch and snapshot lines. Default false. */
  flatten: boolean;
  /** What to do with lines that are not osquery lines. Default 'forward'. */
  unparsed: UnparsedMode;
  /** Longest line read, in bytes. Default {@link DEFAULT_MAX_LINE}. */
  maxLine: number;
  /** No per-line reports on stderr. Default false. */
  quiet: boolean;
  /** Print line and event counts on stderr at the end. Default false. */
  stats: boolean;
  /** Zone of glog time stamps (--tz). Default: the zone oqfwd runs in. */
  zone: Zone;
  /** hostIdentifier of status records without a glog header naming the machine. Default: os.hostname(). */
  host: string;
}

/** Default --max-line: room for snapshots of thousands of rows (real ones reach MBs). */
export const DEFAULT_MAX_LINE = 64 * 1024 * 1024;

/** What parsing the command line came to. */
export type Parsed =
  | { kind: 'run'; options: Options }
  | { kind: 'exit'; code: number };

function sizeArg(value: string): number {
  const n = parseSize(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a size in bytes such as 65536, 64K or 64M');
  return n;
}

function zoneArg(value: string): Zone {
  try {
    return parseZone(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** The commander program: the one source of `--help`. */
export function program(): Command {
  return new Command('oqfwd')
    .description(
      'Read osquery result, snapshot and status logs and write one JSON event per line (NDJSON).\n' +
        'Every line is recognised by its shape; FILEs are read in order, - or none means stdin.',
    )
    .version(VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .argument('[FILE...]', 'osquery log files to read (default: - for stdin)')
    .option('-f, --flatten', 'one event per row of batch and snapshot lines')
    .addOption(
      new Option('--unparsed <mode>', 'lines that are not osquery lines: forward as kind "unparsed", drop, or fail')
        .choices(['forward', 'drop', 'fail'])
        .default('forward'),
    )
    .addOption(
      new Option('--max-line <bytes>', 'longest line read; a longer one is reported and skipped')
        .argParser(sizeArg)
        .default(DEFAULT_MAX_LINE, '64M'),
    )
    .addOption(new Option('--tz <zone>', 'time zone of glog time stamps: IANA name or offset such as +01:00 (default: the local zone)').argParser(zoneArg))
    .option('--host <name>', "hostIdentifier of status lines when no glog header names the machine (default: this host's name)")
    .option('-q, --quiet', 'do not report bad lines on stderr (they are still counted)')
    .option('--stats', 'print line and event counts on stderr at the end')
    .showHelpAfterError("(run 'oqfwd --help' for usage)")
    .allowExcessArguments(true);
}

/** Writes text somewhere (stdout or stderr). */
export type Write = (text: string) => void;

/** Parses `args` (without node and script). Help, version and usage errors are printed here. */
export function parseArgs(args: string[], out: Write, err: Write): Parsed {
  const cmd = program()
    .exitOverride()
    .configureOutput({
      writeOut: out,
      writeErr: err,
      outputError: (text, write) => write(text.replace(/^error: /, 'oqfwd: ')),
    });
  try {
    cmd.parse(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { kind: 'exit', code: e.exitCode === 0 ? 0 : 2 };
    throw e;
  }
  const o = cmd.opts<{ flatten?: boolean; unparsed: UnparsedMode; maxLine: number; quiet?: boolean; stats?: boolean; tz?: Zone; host?: string }>();
  return {
    kind: 'run',
    options: {
      files: cmd.args.length > 0 ? cmd.args : ['-'],
      flatten: o.flatten === true,
      unparsed: o.unparsed,
      maxLine: o.maxLine,
      quiet: o.quiet === true,
      stats: o.stats === true,
      zone: o.tz ?? parseZone(undefined),
      host: o.host ?? hostname(),
    },
  };
}
