import { constants } from 'node:buffer';
import { hostname } from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { UnparsedMode } from './convert.js';
import { POLL_MS, type From } from './input/follow.js';
import { defaultOsqueryDir } from './input/osquery-dir.js';
import { parseDestination, type Destination } from './output/destination.js';
import { DEFAULT_RELP_WINDOW } from './output/relp-sink.js';
import type { TlsFiles } from './output/tls-files.js';
import { forTerminal } from './report.js';
import { parseSize } from './size.js';
import type { Kind } from './record.js';
import { ACTIONS, EVENT_ID_FIELD, KINDS, RESERVED, SEVERITIES, TIMESTAMP_FIELD, type ShapeOptions } from './shape.js';
import type { StatsFormat } from './stats.js';
import { parseZone, type Zone } from './timezone.js';
import { VERSION } from './version.js';

/** Everything a run needs to know, as parsed from the command line. */
export interface Options {
  /** Inputs in order; `-` is standard input. Default: `['-']`. */
  files: string[];
  /** Keep reading the named files as they grow, through rotations, until a signal. Default false. */
  follow: boolean;
  /** The osquery log directory read instead of FILEs (--osquery-dir). Default: none. */
  osqueryDir: string | null;
  /** --follow: where a file found at the start is read from. Default 'beginning'. */
  from: From;
  /** --follow: how often names are checked without a change event, ms. Default {@link POLL_MS}. */
  pollMs: number;
  /** Where each input's delivered position is kept across runs (--state). Default: none. */
  state: string | null;
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
  /** How the counts are written: `name value` lines, or one JSON object (--stats=json). Default 'text'. */
  statsFormat: StatsFormat;
  /** Zone of glog time stamps (--tz). Default: the zone oqfwd runs in. */
  zone: Zone;
  /** hostIdentifier of status records without a glog header naming the machine. Default: os.hostname(). */
  host: string;
  /** Where events go (-o). Default: standard output. */
  output: Destination;
  /** How long an outage (or the first connection) may last before oqfwd gives up, ms; 0 is forever. Default 30 s. */
  connectTimeoutMs: number;
  /** Nothing moving for this long means a dead or stopped receiver: reconnect, ms; 0 is never. Default 60 s. */
  stallTimeoutMs: number;
  /** TCP: bytes of the latest events sent again after a reconnect; RELP: bytes unacknowledged at most. Default 16 MiB. */
  replayBytes: number;
  /** RELP: frames sent and not acknowledged, at most. Default {@link DEFAULT_RELP_WINDOW}. */
  relpWindow: number;
  /** The --tls-* options. Default: none given, verification on. */
  tls: TlsFiles;
  /** Which events are written and what is added to them (--kind, --query, --timestamp, ...). Default: all, as they are. */
  shape: ShapeOptions;
  /** One line per event for people instead of NDJSON (--pretty). Default false. */
  pretty: boolean;
  /** --color (true) or --no-color (false); null: colour on a terminal unless NO_COLOR is set. Default null. */
  color: boolean | null;
  /** --progress (true) or --no-progress (false); null: on when stderr is a terminal and the inputs are files. Default null. */
  progress: boolean | null;
}

/**
 * The longest --max-line: a line that is no osquery record is made one string while it is
 * converted (a record is not, see line-bytes.ts), and Node's strings stop at
 * buffer.constants.MAX_STRING_LENGTH characters (2^29 - 24 on 64-bit Node 20).
 */
export const MAX_MAX_LINE = constants.MAX_STRING_LENGTH;

function maxLineArg(value: string): number {
  const n = sizeArg(value);
  if (n > MAX_MAX_LINE) throw new InvalidArgumentError(`at most ${MAX_MAX_LINE} bytes (${Math.floor(MAX_MAX_LINE / 1024 / 1024)}M): a line that is no record is made one string, and Node's strings are no longer`);
  return n;
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

function destinationArg(value: string): Destination {
  try {
    return parseDestination(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** The longest wait a timer can hold (2^31 - 1 ms, about 24.8 days). */
export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function secondsArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds');
  if (n > MAX_SECONDS) throw new InvalidArgumentError(`at most ${MAX_SECONDS} seconds (0 means no limit)`);
  return Math.round(n * 1000);
}

function pollArg(value: string): number {
  const ms = secondsArg(value);
  if (ms < 10) throw new InvalidArgumentError('expected at least 0.01 seconds');
  return ms;
}

function countArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65536) throw new InvalidArgumentError('expected a whole number from 1 to 65536');
  return n;
}

function zoneArg(value: string): Zone {
  try {
    return parseZone(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** A comma-separated list of values from `allowed`, added to what earlier uses of the flag gave. */
function listArg<T extends string>(allowed: readonly T[]): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => {
    const items = value.split(',').map((x) => x.trim());
    for (const x of items) if (!(allowed as readonly string[]).includes(x)) throw new InvalidArgumentError(`'${x}' is not one of ${allowed.join(', ')} (a comma-separated list)`);
    return [...(previous ?? []), ...(items as T[])];
  };
}

function repeatArg(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function fieldArg(value: string, previous: Array<[string, string]> | undefined): Array<[string, string]> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError('expected KEY=VALUE with a KEY, such as env=prod');
  const key = value.slice(0, eq);
  if ((previous ?? []).some(([k]) => k === key)) throw new InvalidArgumentError(`'${key}' is given twice`);
  return [...(previous ?? []), [key, value.slice(eq + 1)]];
}

/** The commander program: the one source of `--help`. */
export function program(): Command {
  return (
    new Command('oqfwd')
      .description(
        'Read osquery result, snapshot and status logs and write one JSON event per line (NDJSON).\n' +
          'Every line is recognised by its shape; FILEs are read in order, - or none means stdin.',
      )
      .argument('[FILE...]', 'osquery log files to read (default: - for stdin)')
      .optionsGroup('Input:')
      .option('-F, --follow', 'keep reading the FILEs as they grow, by name, through rotations (like tail -F)')
      .addOption(new Option('--osquery-dir [dir]', `osquery's log directory: its results, snapshots and INFO logs (default dir: ${defaultOsqueryDir()})`))
      .addOption(new Option('--from <where>', 'with --follow: read a file found at the start from its beginning or only what is added').choices(['beginning', 'end']).default('beginning'))
      .option('--state <file>', 'remember in FILE how far each input was delivered, and go on from there next time (through rotations)')
      .addOption(new Option('--poll-interval <s>', 'with --follow: check the FILEs this often without a change event').argParser(pollArg).default(POLL_MS, String(POLL_MS / 1000)))
      .addOption(
        new Option('--max-line <bytes>', 'longest line read; a longer one is reported and skipped')
          .argParser(maxLineArg)
          .default(DEFAULT_MAX_LINE, '64M'),
      )
      .addOption(new Option('--tz <zone>', 'time zone of glog time stamps: IANA name or offset such as +01:00 (default: the local zone)').argParser(zoneArg))
      .option('--host <name>', "hostIdentifier of status lines when neither a glog header nor a syslog or journal prefix names the machine (default: this host's name)")
      .optionsGroup('Selection and shaping:')
      .option('-f, --flatten', 'one event per row of batch and snapshot lines')
      .addOption(
        new Option('--unparsed <mode>', 'lines that are not osquery lines: forward as kind "unparsed", drop, or fail')
          .choices(['forward', 'drop', 'fail'])
          .default('forward'),
      )
      .addOption(new Option('--kind <list>', `only events of these kinds: ${KINDS.join(',')} (comma-separated, repeatable)`).argParser(listArg(KINDS)))
      .addOption(new Option('--query <glob>', 'only events of a query whose name matches GLOB (* ? [...]; repeatable: any of them)').argParser(repeatArg))
      .addOption(new Option('--min-severity <level>', 'only status events of this severity or above (other kinds pass)').choices(SEVERITIES))
      .addOption(new Option('--action <list>', `only events with one of these actions: ${ACTIONS.join(',')} (comma-separated; batches need --flatten)`).argParser(listArg(ACTIONS)))
      .addOption(new Option('--add-field <key=value>', 'add a string field to every event (repeatable); a line that has KEY keeps its own').argParser(fieldArg))
      .option('--timestamp', `add the event's time, ISO 8601 in UTC, as ${TIMESTAMP_FIELD}; --timestamp=FIELD: as FIELD`)
      .option('--event-id', `add a stable id (see EVENT IDS in oqfwd(1)) as ${EVENT_ID_FIELD}; --event-id=FIELD: as FIELD`)
      .optionsGroup('Output:')
      .addOption(
        new Option('-o, --output <dest>', 'where events go: - (stdout), tcp://HOST:PORT, tls://HOST:PORT, relp://HOST:PORT, relp+tls://HOST:PORT or HOST:PORT')
          .argParser(destinationArg)
          .default(undefined, '-'),
      )
      .option('--pretty', 'one line per event for people, not JSON (stdout only)')
      .option('--color', 'colour --pretty and stderr even when they are not terminals')
      .option('--no-color', 'never colour (as NO_COLOR does)')
      .optionsGroup('Delivery (-o tcp, tls, relp):')
      .addOption(new Option('--connect-timeout <s>', 'give up when the receiver cannot be reached for this long; 0 retries forever').argParser(secondsArg).default(30000, '30'))
      .addOption(new Option('--stall-timeout <s>', 'reconnect when nothing moves for this long; 0 never does').argParser(secondsArg).default(60000, '60'))
      .addOption(new Option('--replay-window <bytes>', 'TCP: the latest events sent again after a reconnect; RELP: bytes unacknowledged at most').argParser(sizeArg).default(16 * 1024 * 1024, '16M'))
      .addOption(new Option('--relp-window <n>', 'RELP: events sent and not acknowledged, at most').argParser(countArg).default(DEFAULT_RELP_WINDOW, String(DEFAULT_RELP_WINDOW)))
      .option('--tls-ca <file>', 'CA certificates (PEM) to verify the receiver with')
      .option('--tls-cert <file>', 'client certificate (PEM), for receivers that ask for one')
      .option('--tls-key <file>', 'key (PEM) of the client certificate')
      .option('--tls-servername <name>', 'name the receiver certificate must carry (for IP destinations)')
      .option('--tls-insecure', 'do not verify the receiver certificate (warned about on stderr)')
      .optionsGroup('Diagnostics:')
      .option('-q, --quiet', 'do not report bad lines on stderr (they are still counted)')
      .option('--stats', 'print line and event counts on stderr at the end; --stats=json: as one JSON object')
      .option('--progress', 'show bytes done, events/s and time left on stderr (default when only stderr is a terminal and the inputs are files)')
      .option('--no-progress', 'never show progress')
      .version(VERSION, '-V, --version', 'print the version and exit')
      .helpOption('-h, --help', 'print this help and exit')
      .showHelpAfterError("(run 'oqfwd --help' for usage)")
      .allowExcessArguments(true)
  );
}

/** Writes text somewhere (stdout or stderr). */
export type Write = (text: string) => void;

/**
 * Flags whose value comes only after `=` (`--stats=json`, `--timestamp=ts`): an optional
 * value of commander's would swallow the FILE after a bare flag.
 */
const EQUALS = /^(--stats|--timestamp|--event-id)=(.*)$/s;

/** What bare `oqfwd` says when standard input is a terminal, instead of waiting without a word. */
export const TERMINAL_HINT = `oqfwd reads osquery's logs from FILEs or from standard input, which is a terminal here.
For example:
  oqfwd /var/log/osquery/osqueryd.results.log
  tail -F /var/log/osquery/osqueryd.results.log | oqfwd
  oqfwd --pretty /var/log/osquery/osqueryd.INFO
'oqfwd -' reads what you type; 'oqfwd --help' lists the options; 'man oqfwd' is the manual.
`;

/**
 * Parses `argv` (without node and script). Help, version and usage errors are printed here.
 * @param stdinIsTTY standard input is a terminal: bare `oqfwd` then prints {@link TERMINAL_HINT} (exit 2). Default false.
 */
export function parseArgs(argv: string[], out: Write, err: Write, stdinIsTTY = false): Parsed {
  const usage = (message: string): Parsed => {
    err(`oqfwd: ${forTerminal(message)}\n(run 'oqfwd --help' for usage)\n`);
    return { kind: 'exit', code: 2 };
  };
  let format: StatsFormat = 'text';
  const named: Record<string, string> = {};
  let files = false;
  const args: string[] = [];
  for (const a of argv) {
    // After `--`, everything is a FILE.
    const m = files ? null : EQUALS.exec(a);
    files ||= a === '--';
    if (m === null) {
      args.push(a);
      continue;
    }
    const [, flag, value] = m as unknown as [string, string, string];
    if (flag === '--stats') {
      if (value !== 'json' && value !== 'text') return usage("option '--stats[=FORMAT]': FORMAT is text or json");
      format = value;
    } else {
      if (value === '') return usage(`option '${flag}[=FIELD]': FIELD is empty`);
      named[flag] = value;
    }
    args.push(flag);
  }
  const cmd = program()
    .exitOverride()
    .configureOutput({
      writeOut: out,
      writeErr: err,
      // A usage error can quote argv: each of its lines shown escaped, like every report.
      outputError: (text, write) => write(text.replace(/^error: /, 'oqfwd: ').split('\n').map(forTerminal).join('\n')),
    });
  try {
    cmd.parse(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { kind: 'exit', code: e.exitCode === 0 ? 0 : 2 };
    throw e;
  }
  const o = cmd.opts<{
    follow?: boolean;
    osqueryDir?: string | true;
    from: From;
    pollInterval: number;
    state?: string;
    flatten?: boolean;
    unparsed: UnparsedMode;
    maxLine: number;
    quiet?: boolean;
    stats?: boolean;
    tz?: Zone;
    host?: string;
    output?: Destination;
    connectTimeout: number;
    stallTimeout: number;
    replayWindow: number;
    relpWindow: number;
    tlsCa?: string;
    tlsCert?: string;
    tlsKey?: string;
    tlsServername?: string;
    tlsInsecure?: boolean;
    kind?: Kind[];
    query?: string[];
    minSeverity?: (typeof SEVERITIES)[number];
    action?: string[];
    addField?: Array<[string, string]>;
    timestamp?: boolean;
    eventId?: boolean;
    pretty?: boolean;
    color?: boolean;
    progress?: boolean;
  }>();
  const shape: ShapeOptions = {
    kinds: o.kind === undefined ? null : new Set(o.kind),
    queries: o.query ?? null,
    minSeverity: o.minSeverity === undefined ? 0 : SEVERITIES.indexOf(o.minSeverity),
    actions: o.action === undefined ? null : new Set(o.action),
    fields: o.addField ?? [],
    timestamp: o.timestamp === true ? (named['--timestamp'] ?? TIMESTAMP_FIELD) : null,
    eventId: o.eventId === true ? (named['--event-id'] ?? EVENT_ID_FIELD) : null,
  };
  const added = [...shape.fields.map(([k]) => k), ...(shape.timestamp === null ? [] : [shape.timestamp]), ...(shape.eventId === null ? [] : [shape.eventId])];
  for (const [i, k] of added.entries()) {
    if (RESERVED.includes(k)) return usage(`'${k}' is a field oqfwd writes itself: choose another name to add (--add-field, --timestamp=FIELD, --event-id=FIELD)`);
    if (added.indexOf(k) !== i) return usage(`'${k}' would be added twice (--add-field, --timestamp=FIELD, --event-id=FIELD)`);
  }
  if (o.pretty === true && o.output !== undefined && o.output.kind !== 'stdout') return usage('--pretty is for people at a terminal: it cannot go with -o to a receiver');
  if (stdinIsTTY && cmd.args.length === 0 && o.osqueryDir === undefined) {
    err(TERMINAL_HINT);
    return { kind: 'exit', code: 2 };
  }
  if (o.osqueryDir !== undefined && cmd.args.length > 0) return usage("--osquery-dir reads the directory's own files: no FILE arguments with it");
  if (o.follow !== true && o.from === 'end') return usage('--from end needs --follow (a one-shot run reads its files whole)');
  return {
    kind: 'run',
    options: {
      files: cmd.args.length > 0 ? cmd.args : ['-'],
      follow: o.follow === true,
      osqueryDir: o.osqueryDir === undefined ? null : o.osqueryDir === true ? defaultOsqueryDir() : o.osqueryDir,
      from: o.from,
      pollMs: o.pollInterval,
      state: o.state ?? null,
      flatten: o.flatten === true,
      unparsed: o.unparsed,
      maxLine: o.maxLine,
      quiet: o.quiet === true,
      stats: o.stats === true,
      statsFormat: format,
      zone: o.tz ?? parseZone(undefined),
      host: o.host ?? hostname(),
      output: o.output ?? { kind: 'stdout' },
      connectTimeoutMs: o.connectTimeout,
      stallTimeoutMs: o.stallTimeout,
      replayBytes: o.replayWindow,
      relpWindow: o.relpWindow,
      shape,
      pretty: o.pretty === true,
      color: o.color ?? null,
      progress: o.progress ?? null,
      tls: {
        ...(o.tlsCa !== undefined && { ca: o.tlsCa }),
        ...(o.tlsCert !== undefined && { cert: o.tlsCert }),
        ...(o.tlsKey !== undefined && { key: o.tlsKey }),
        ...(o.tlsServername !== undefined && { servername: o.tlsServername }),
        insecure: o.tlsInsecure === true,
      },
    },
  };
}
