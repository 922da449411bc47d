// Signals a forwarder gets from its surroundings: SIGUSR1 ("reopen your logs" in many
// setups) prints the counters and never opens Node's inspector; SIGHUP and SIGUSR2 do not
// end a run.
import { spawn } from 'node:child_process';
import t from 'tap';
import { BIN, ROOT, tracked, waitFor } from './helpers.js';

const line = '{"name":"q","hostIdentifier":"h","unixTime":1,"epoch":0,"counter":0,"columns":{"a":"1"},"action":"added"}\n';

t.test('SIGUSR1 prints the --stats counters as they are, opens no debugger, and the run goes on', async (t) => {
  const child = tracked(spawn(process.execPath, [BIN], { cwd: ROOT, env: { PATH: process.env.PATH, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.write(line + line + line);
  t.ok(await waitFor(() => out.split('\n').length > 3, 10000), 'running');
  child.kill('SIGUSR1');
  t.ok(await waitFor(() => /stats: events +3\b/.test(err), 5000), 'the counters so far');
  child.kill('SIGUSR1');
  t.ok(await waitFor(() => (err.match(/stats: events +\d/g) ?? []).length === 2, 5000), 'each time');
  child.stdin.write(line);
  t.ok(await waitFor(() => out.split('\n').length > 4, 10000), 'still converting');
  child.stdin.end();
  t.equal(await closed, 0);
  t.notMatch(err, /Debugger|inspector|ws:\/\//i, 'no debugger');
  t.match(err, /stats: lines +3\b/, 'the lines counted when asked');
});

for (const signal of ['SIGHUP', 'SIGUSR2'] as const) {
  t.test(`${signal} does not end a one-shot run`, async (t) => {
    const child = tracked(spawn(process.execPath, [BIN], { cwd: ROOT, env: { PATH: process.env.PATH }, stdio: ['pipe', 'pipe', 'pipe'] }));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig === null ? null : -1))));
    child.stdin.write(line);
    t.ok(await waitFor(() => out.length > 0, 10000));
    child.kill(signal);
    child.stdin.end(line);
    t.equal(await closed, 0);
    t.equal(out.split('\n').length - 1, 2, 'every line');
  });
}

t.test('a FIFO: read like a pipe, and a SIGTERM while it waits for a writer ends the run at once', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { scratch } = await import('./helpers.js');
  const fifo = join(scratch('fifo'), 'fifo');
  execFileSync('mkfifo', [fifo]);
  const run = (): { closed: Promise<number | null>; out: () => string; child: ReturnType<typeof spawn> } => {
    const child = tracked(spawn(process.execPath, [BIN, fifo], { cwd: ROOT, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    return { child, out: () => out, closed: new Promise((resolve) => child.on('close', (c) => resolve(c))) };
  };
  const reader = run();
  // The writer, a process of its own: its open waits until oqfwd opened the FIFO.
  tracked(spawn('sh', ['-c', 'printf "%s" "$0" > "$1"', line + line, fifo], { stdio: 'ignore' }));
  const within = <T>(p: Promise<T>, ms: number): Promise<T | 'too late'> => Promise.race([p, new Promise<'too late'>((r) => setTimeout(() => r('too late'), ms))]);
  t.equal(await within(reader.closed, 10000), 0, 'read to its end');
  reader.child.kill('SIGKILL');
  t.equal(reader.out().split('\n').length - 1, 2, 'both lines');
  // Nobody will ever write: the open waits in a thread of its own, which a signal cannot stop.
  const waiting = run();
  // Waiting for a writer shows in /proc as a thread asleep in wait_for_partner; the open comes
  // after oqfwd's signal handlers are in place (a SIGTERM before them would end it by the
  // default, which a loaded machine's slow start makes likely).
  const { readdirSync, readFileSync } = await import('node:fs');
  const inOpen = (): boolean => {
    try {
      return readdirSync(`/proc/${waiting.child.pid}/task`).some((tid) => readFileSync(`/proc/${waiting.child.pid}/task/${tid}/wchan`, 'utf8') === 'wait_for_partner');
    } catch {
      return false;
    }
  };
  t.ok(await waitFor(inOpen, 10000), 'waiting for a writer');
  const started = Date.now();
  waiting.child.kill('SIGTERM');
  t.equal(await within(waiting.closed, 10000), 143, 'SIGTERM ends it');
  waiting.child.kill('SIGKILL');
  t.ok(Date.now() - started < 5000, 'at once, not at the second signal');
});

t.test('signals at random points of --state runs: across the runs every line comes out exactly once, in order', async (t) => {
  const { existsSync, readFileSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { line: numberedLine, rng, scratch } = await import('./helpers.js');
  const dir = scratch('random-signals');
  const file = join(dir, 'r.log');
  const state = join(dir, 'state.json');
  const n = 100_000;
  writeFileSync(file, Array.from({ length: n }, (_, i) => numberedLine(i)).join(''));
  // A seeded sequence: the same points on every run of the suite; what lands where depends
  // on the machine's speed, and the invariant holds whatever it is.
  const random = rng(20261202);
  const noise = ['SIGUSR1', 'SIGHUP', 'SIGUSR2'] as const;
  const out: string[] = [];
  const codes: Array<number | null> = [];
  for (let round = 0; round < 40; round++) {
    const last = round === 39;
    const child = tracked(spawn(process.execPath, [BIN, '--state', state, file], { cwd: ROOT, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] }));
    let text = '';
    let err = '';
    // A slow reader (about 3 MB/s): backpressure makes a run last seconds, so that signals land in
    // the middle of it, while events wait in oqfwd.
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 20);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig === null ? null : -1))));
    if (!last) {
      // From when oqfwd holds the state's lock: its handlers are in place before it takes it
      // (a signal before Node has run oqfwd's first line gets Node's defaults; see the man page).
      await waitFor(() => existsSync(`${state}.lock`) || child.exitCode !== null, 10000);
      const at = Date.now() + random() * 500;
      // Harmless signals first, at random moments before the one that stops the run.
      for (let k = Math.floor(random() * 3); k > 0 && child.exitCode === null; k--) {
        await new Promise((r) => setTimeout(r, random() * (at - Date.now()) / 2));
        // While the run holds the lock: once it let go, the run is over and Node is closing
        // its signal handlers (a signal then ends it by the default action, as any process).
        const signal = noise[Math.floor(random() * noise.length)]!;
        if (child.exitCode === null && existsSync(`${state}.lock`)) child.kill(signal);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      if (child.exitCode === null) child.kill(random() < 0.5 ? 'SIGTERM' : 'SIGINT');
    }
    let code = await closed;
    // Killed by a signal after the lock was let go (between the check above and the kill):
    // its work was done and saved, which the lines' count below holds it to.
    if (code === -1 && !existsSync(`${state}.lock`)) code = 143;
    codes.push(code);
    if (![0, 130, 143].includes(code ?? -2)) {
      t.fail(`round ${round}: ${code === -1 ? `killed by ${child.signalCode}` : `exit ${code}`}: ${err}`);
      return;
    }
    out.push(text);
    if (code === 0) break;
  }
  const all = out.join('');
  const seqs = all.split('\n').slice(0, -1).map((l) => Number(/"seq":"(\d+)"/.exec(l)?.[1] ?? -1));
  t.equal(seqs.length, n, `${n} events over ${codes.length} runs (${codes.filter((c) => c !== 0).length} stopped by a signal)`);
  t.ok(seqs.every((s, i) => s === i), 'each line once, in order: no gap, no duplicate, no torn line');
  t.ok(all.endsWith('\n') && out.every((o) => o === '' || o.endsWith('\n')), 'every run ended on a whole event');
  t.equal(codes.at(-1), 0, 'the last run read to the end');
  t.ok(codes.filter((c) => c !== 0).length >= 3, 'several runs were stopped in the middle');
  t.match(readFileSync(state, 'utf8'), /"offset": \d+/);
});
