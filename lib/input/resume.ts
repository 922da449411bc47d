import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FINGERPRINT_BYTES, identify, remember, sameFile, type FileId } from './identity.js';
import type { Source, Start } from './files.js';
import { currentInfo, INFO, RESULTS, rotations, SNAPSHOTS } from './osquery-dir.js';
import { stateKey, type Saved, type StateFile } from './state.js';

/** Told of what the operator must know (`error`: lines may be missing) or should know. */
type Tell = (name: string, message: string) => void;

/** How a name whose position was saved is read on: older files to finish first, then the live one. */
export interface Plan {
  /** Files to read to their end before the live file, oldest first (each tracked under the name). */
  before: Source[];
  /** Where the live file is read from: the saved position when it is the saved file, else its beginning. */
  live: Start | 'beginning';
  /** Something the operator must know: the file read last could not be found, and lines may be missing. */
  lost: string | null;
  /** Something the operator should know that loses nothing. */
  notice: string | null;
}

/** The identity of each of `older` (null for one that cannot be read). */
async function identities(older: string[]): Promise<Array<{ path: string; id: FileId | null }>> {
  const ids = [];
  for (const path of older) ids.push({ path, id: await identify(path) });
  return ids;
}

/**
 * The readable files of `ids` after index `from`, in order, less a file whose first bytes
 * are those of the one before it (`last` for the first): osquery compresses NAME.1 into
 * NAME.2.zst before it deletes it, the same text twice.
 */
function newer(ids: Array<{ path: string; id: FileId | null }>, from: number, last: Buffer | null): string[] {
  const out: string[] = [];
  for (let i = from + 1; i < ids.length; i++) {
    const id = ids[i]!.id;
    if (id === null) continue;
    if (last !== null && id.head.length === FINGERPRINT_BYTES && id.head.equals(last)) continue;
    last = id.head;
    out.push(ids[i]!.path);
  }
  return out;
}

/**
 * Where to go on with `key`, whose saved position is `saved`: in the file now at `live`
 * when it is the same file; else in the rotated sibling (`older`, oldest first) that is
 * it, by inode or by the fingerprint of its text (an archive of it), followed by every newer
 * sibling and the live file from their starts. When it is nowhere, every sibling is read,
 * and `lost` says that what it held after the saved offset may be missing.
 */
export async function plan(key: string, saved: Saved, live: string | null, older: string[]): Promise<Plan> {
  const start0 = { offset: 0, line: 0 };
  if (live !== null) {
    const id = await identify(live);
    if (id !== null && sameFile(saved.file, id) !== null) return { before: [], live: saved.start, lost: null, notice: null };
  }
  const ids = await identities(older);
  let match = -1;
  for (let i = 0; i < ids.length; i++) {
    const how = ids[i]!.id === null ? null : sameFile(saved.file, ids[i]!.id!);
    // The inode is the file itself; among copies (an archive beside the file it was made
    // from), the newest.
    if (how === 'inode') {
      match = i;
      break;
    }
    if (how === 'content') match = i;
  }
  if (match === -1 && saved.finished) {
    // Read to its end once it had left its name: nothing of it is missing. (A newer file that
    // appeared and was rotated away before its position was saved, within a second, would be.)
    return { before: [], live: 'beginning', lost: null, notice: `the file read last (${saved.path}) was read to its end and is gone; reading the file there now from its start` };
  }
  const found = match === -1 ? [] : [{ path: ids[match]!.path, key, start: saved.start }];
  const before: Source[] = [...found, ...newer(ids, match, match === -1 ? null : ids[match]!.id!.head).map((path) => ({ path, key, start: start0 }))];
  const lost = match === -1 ? `the file read last (${saved.path}, delivered up to byte ${saved.start.offset}) is no longer there nor among its rotated files: whatever it held after that may be missing; every rotated file there is read, oldest first` : null;
  return { before, live: 'beginning', lost, notice: null };
}

/**
 * The files that came after `done` in its name's history (`older`, oldest first), while
 * nobody looked: a follower that finds a new file at the name reads these first. Two
 * rotations (or two glog worker restarts) between two looks leave a file that was at the
 * name only briefly; it is among the older files now. Empty when `done` is not among them
 * (deleted: then nothing is known of what came between).
 */
export async function between(done: FileId, older: string[]): Promise<string[]> {
  const known = remember(done);
  const ids = await identities(older);
  let match = -1;
  for (let i = ids.length - 1; i >= 0 && match === -1; i--) if (ids[i]!.id !== null && sameFile(known, ids[i]!.id!) === 'inode') match = i;
  return match === -1 ? [] : newer(ids, match, done.head);
}

/**
 * What a one-shot run with --state reads for the name `path`: with a saved position, the
 * rest of the file read last (wherever rotation took it), the files newer than it, and the
 * live file; without one, `fresh` (the live file alone, or a directory's whole history).
 * The live file is read for now: a last line without its newline is left for the next run.
 */
async function resumedName(state: StateFile, path: string, live: string | null, fresh: string[], error: Tell, notice: Tell): Promise<Source[]> {
  const key = stateKey(path);
  const saved = state.get(key);
  if (saved === undefined) return fresh.map((p) => ({ path: p, key, ...(p === live && { leave: true }) }));
  const p = await plan(key, saved, live, await rotations(path));
  if (p.lost !== null) error(path, p.lost);
  if (p.notice !== null) notice(path, p.notice);
  return [...p.before, ...(live === null ? [] : [{ path: live, key, ...(p.live !== 'beginning' && { start: p.live }), leave: true }])];
}

/** A one-shot run's FILEs with --state: each from where the last run left it (`-` as it is). */
export async function resumedFiles(state: StateFile, files: string[], error: Tell, notice: Tell): Promise<Array<string | Source>> {
  const out: Array<string | Source> = [];
  for (const path of files) out.push(...(path === '-' ? ['-'] : await resumedName(state, path, path, [path], error, notice)));
  return out;
}

/**
 * A one-shot run of an osquery directory with --state: each log (results, snapshots, the
 * INFO status log) from where the last run left it; a log the state does not know yet, its
 * whole history, oldest first.
 */
export async function resumedDirectory(state: StateFile, dir: string, error: Tell, notice: Tell): Promise<Source[]> {
  const out: Source[] = [];
  for (const name of [RESULTS, SNAPSHOTS, INFO]) {
    const path = join(dir, name);
    const found = name === INFO ? await currentInfo(dir) : path;
    const live = found !== null && existsSync(found) ? found : null;
    const older = await rotations(path);
    out.push(...(await resumedName(state, path, live, [...older, ...(live === null ? [] : [live])], error, notice)));
  }
  return out;
}
