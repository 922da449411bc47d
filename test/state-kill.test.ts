// kill -9 at random points of a large one-shot conversion with --state, restarted each time:
// the state file is always whole and 0600, never ahead of what reached the output, and the
// union of the outputs has no gap; each run begins exactly where the state says. The output
// is a pipe read slowly (about 3 MB/s), so that a run lasts seconds and kills land mid-way;
// what the killed run had written is read to the end of the pipe.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BIN, numbered, scratch, sleep, tracked } from './helpers.js';

const dir = scratch('state-kill');
const N = 60000;

/** The seq numbers in `text`, in order. */
const seqsOf = (text: string): number[] => [...text.matchAll(/"seq":"(\d+)"/g)].map((m) => Number(m[1]));

t.test('kill -9 again and again: no gap, each run resumes at the saved line, the state always valid', async (t) => {
  const input = numbered(dir, N, 40);
  const state = join(dir, 'state.json');
  const out = join(dir, 'out.ndjson');
  // A fixed sequence of delays, so that a failure can be run again as it was.
  const delays = [350, 1300, 700, 1600, 500, 1200];
  let kills = 0;
  let code: number | null = null;
  let savedBefore = 0;
  let written = 0;
  for (let run = 0; run < 20 && code !== 0; run++) {
    const child = tracked(spawn(process.execPath, [BIN, '--state', state, input], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] }));
    let slow = true;
    child.stdout!.on('data', (d: Buffer) => {
      appendFileSync(out, d);
      if (!slow) return;
      child.stdout!.pause();
      setTimeout(() => child.stdout!.resume(), 20);
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const delay = delays[run];
    let killed = false;
    if (delay !== undefined) {
      const winner = await Promise.race([closed.then(() => 'exited'), sleep(delay).then(() => 'time')]);
      if (winner === 'time') {
        slow = false;
        child.stdout!.resume();
        child.kill('SIGKILL');
        killed = true;
        kills++;
      }
    }
    code = await closed;
    if (killed) code = null;
    else t.equal(code, 0, `run ${run} ended by itself: ${stderr}`);
    // What this run wrote: it starts exactly at the line the state said before it.
    const all = existsSync(out) ? seqsOf(readFileSync(out, 'utf8')) : [];
    const mine = all.slice(written);
    written = all.length;
    if (mine.length > 0) t.equal(mine[0], savedBefore, `run ${run} began at the saved line ${savedBefore}`);
    t.ok(
      mine.every((s, i) => s === savedBefore + i),
      `run ${run}: one contiguous range`,
    );
    if (existsSync(state)) {
      t.equal(statSync(state).mode & 0o777, 0o600, `run ${run}: state 0600`);
      const doc = JSON.parse(readFileSync(state, 'utf8')); // throws if torn
      const line = doc.inputs[0].line as number;
      t.ok(line >= savedBefore, `run ${run}: the saved line never goes back (${savedBefore} → ${line})`);
      t.ok(line <= savedBefore + mine.length, `run ${run}: saved line ${line} is not ahead of what reached the output (${savedBefore + mine.length})`);
      savedBefore = line;
    }
  }
  t.ok(kills >= 3, `${kills} kills happened`);
  t.equal(code, 0, 'a last run finished');
  const seen = new Uint8Array(N);
  for (const s of seqsOf(readFileSync(out, 'utf8'))) seen[s] = 1;
  t.equal(seen.indexOf(0), -1, 'every line of the input is in the union of the outputs');
  t.equal(savedBefore, N, 'and the state ends at the last line');
});
