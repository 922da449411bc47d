#!/usr/bin/env node
// First: SIGUSR1 must never reach Node's inspector (see lib/inspector-guard.ts).
import { onUsr1 } from '../lib/inspector-guard.js';
import { parseArgs } from '../lib/cli.js';
import { paintFor, PLAIN } from '../lib/colour.js';
import { EXIT } from '../lib/exit.js';

// SIGUSR2 ("reopen your logs" in some setups, like SIGUSR1) must not end a forwarder: oqfwd
// has no log file of its own to reopen, so it is ignored.
process.on('SIGUSR2', () => {});
// A file size limit (ulimit -f) reached by the state file or an output file must be a write
// that fails (EFBIG), reported like a full disk, not a death without a word (SIGXFSZ's default).
process.on('SIGXFSZ', () => {});

// The only place that touches the process: argv in, exit status out. What a run needs is
// loaded only for a run, so that --help and --version start fast.
try {
  const parsed = parseArgs(
    process.argv.slice(2),
    (text) => process.stdout.write(text),
    (text) => process.stderr.write(text),
    process.stdin.isTTY === true,
  );
  if (parsed.kind === 'exit') {
    process.exitCode = parsed.code;
  } else {
    const [{ start }, { closedAtStart }] = await Promise.all([import('../lib/run.js'), import('../lib/output/stdout-sink.js')]);
    // Standard error closed by its reader (`2>&1 | head`) or full (`2>/dev/full`) must not stop
    // the events: what cannot be said is dropped, and counted (reports_lost).
    let stderrFailed = false;
    process.stderr.on('error', () => (stderrFailed = true));
    const running = start(parsed.options, {
      stdin: process.stdin,
      stdout: process.stdout,
      stdoutReleases: true,
      stderr: (text) => {
        if (stderrFailed) running.stats.reportsLost++;
        else process.stderr.write(text);
      },
      paint: await paintFor(process.env, process.stderr.isTTY === true, parsed.options.color),
      stderrIsTTY: process.stderr.isTTY === true,
      stdoutIsTTY: process.stdout.isTTY === true,
      stdoutClosed: closedAtStart(1),
      stdoutPaint: parsed.options.pretty ? await paintFor(process.env, process.stdout.isTTY === true, parsed.options.color) : PLAIN,
    });
    onUsr1(() => process.stderr.write(running.counters()));
    const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
      // First signal: stop reading and flush. A second one: the user insists.
      process.once(signal, () => process.exit(EXIT[signal]));
      running.stop(signal);
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    // Followed names are looked at again at once; a one-shot run ignores it. Never removed:
    // a SIGHUP that arrives as the run ends must not find the default (terminate) in place.
    process.on('SIGHUP', () => running.rescan());
    running.done.then(
      (code) => {
        process.exitCode = code;
        // The run is over, all it read delivered: a signal while the process winds down
        // ends it at once with that status, not by the default action (killed, no status).
        for (const signal of ['SIGINT', 'SIGTERM'] as const) {
          process.removeAllListeners(signal);
          process.once(signal, () => process.exit(code));
        }
      },
      (err: unknown) => internalError(err),
    );
  }
} catch (err) {
  internalError(err);
}

function internalError(err: unknown): void {
  const detail = process.env.OQFWD_DEBUG ? String((err as Error)?.stack ?? err) : String((err as Error)?.message ?? err);
  process.stderr.write(`oqfwd: internal error: ${detail}\n`);
  process.exitCode = EXIT.SOFTWARE;
}
