// --follow under load: writers append at about 10,000 lines a second, one write per line as
// osquery does, while the file is rotated every few thousand lines by each kind of rotation.
// Every line must come out once, in order (copytruncate: see the note in its rotation).
import { appendFileSync, copyFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { emptyDir, follow, line, scratch, sleep, waitFor, type Follower } from './helpers.js';

const dir = scratch('follow-stress');

/**
 * A writer appending `n` lines at about 10,000 a second, one write per line as osquery does,
 * rotating the file every `every` lines as `rotate` says.
 */
async function writeWhileRotating(live: string, n: number, every: number, rotate: (k: number, written: number) => Promise<void> | void): Promise<void> {
  let seq = 1; // 0 is written first, on its own
  let k = 0;
  while (seq < n) {
    const started = Date.now();
    for (let i = 0; i < 50 && seq < n; i++) appendFileSync(live, line(seq++));
    if (seq % every < 50 && seq < n) await rotate(k++, seq);
    await sleep(Math.max(0, 5 - (Date.now() - started)));
  }
}

t.test('lines written at ~10,000/s through many rotations of each kind: each line once, in order', async (t) => {
  const kinds: Record<string, (live: string, f: Follower) => (k: number, written: number) => Promise<void> | void> = {
    // osquery --logger_rotate: .k shifts up, the live file becomes .1, the next write makes a new one.
    rename: (live) => (k) => {
      for (let j = Math.min(k, 3); j >= 1; j--) renameSync(`${live}.${j}`, `${live}.${j + 1}`);
      renameSync(live, `${live}.1`);
    },
    // Deleted outright and recreated by the next write.
    delete: (live) => () => rmSync(live),
    // logrotate copytruncate. What is written between the follower's last read and the
    // truncation is only in the copy (logrotate's own documentation says so): the writer
    // waits until the follower has caught up, and the test checks everything after that.
    copytruncate: (live, f) => async (_k, written) => {
      await waitFor(() => f.seqs().length >= written, 20000);
      copyFileSync(live, `${live}.1`);
      truncateSync(live, 0);
    },
  };
  // 100,000 through osquery's own rotation, 50,000 through each of the others, all at once.
  const lines: Record<string, number> = { rename: 100_000, delete: 50_000, copytruncate: 50_000 };
  await Promise.all(
    Object.entries(kinds).map(async ([kind, make]) => {
      const n = lines[kind]!;
      const d = emptyDir(join(dir, `stress-${kind}`));
      const live = join(d, 'osqueryd.results.log');
      writeFileSync(live, '');
      const f = follow([live]);
      // The first line out before the first rotation: a follower that starts after the
      // file was renamed away never sees what the old file held (it follows the name).
      appendFileSync(live, line(0));
      await waitFor(() => f.seqs().length === 1, 20000);
      await writeWhileRotating(live, n, kind === 'copytruncate' ? 20000 : 15000, make(live, f));
      // Bounded, and generous: beside the rest of the suite on a loaded machine it can lag.
      const all = await waitFor(() => f.seqs().length >= n, 60000);
      const r = await f.stop();
      const got = f.seqs();
      t.ok(all, `${kind}: ${got.length} of ${n} events`);
      let inOrder = true;
      for (let i = 0; i < got.length && inOrder; i++) inOrder = got[i] === i;
      t.ok(inOrder && got.length === n, `${kind}: each line once, in order`);
      t.equal(r.code, 143, `${kind}: ${r.stderr}`);
    }),
  );
});

