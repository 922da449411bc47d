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
  t.ok(await waitFor(() => (err.match(/stats: events/g) ?? []).length === 2, 5000), 'each time');
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
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.write(line);
    t.ok(await waitFor(() => out.length > 0, 10000));
    child.kill(signal);
    child.stdin.end(line);
    t.equal(await closed, 0);
    t.equal(out.split('\n').length - 1, 2, 'every line');
  });
}
