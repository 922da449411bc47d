#!/usr/bin/env node
import { EXIT } from '../lib/exit.js';
import { main } from '../lib/run.js';

// The only place that touches the process: argv in, exit status out.
try {
  const running = main(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
  });
  if (typeof running === 'number') {
    process.exitCode = running;
  } else {
    const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
      // First signal: stop reading and flush. A second one: the user insists.
      process.removeAllListeners(signal);
      process.once(signal, () => process.exit(EXIT[signal]));
      running.stop(signal);
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    running.done.then(
      (code) => {
        process.exitCode = code;
        process.removeAllListeners('SIGINT');
        process.removeAllListeners('SIGTERM');
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
