import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { identify, remember, sameFile, textDigest, type FileId, type Known } from './identity.js';
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
  /** The identity of the last file of `before`: a follower looks for files after it (see {@link between}). */
  last: FileId | null;
  /** Something the operator must know: the file read last could not be found, and lines may be missing. */
  lost: string | null;
  /** Something the operator should know that loses nothing. */
  notice: string | null;
}

interface Sibling {
  path: string;
  /** Null for a file that cannot be read. */
  id: FileId | null;
}

/** The identity of each of `older`. */
async function identities(older: string[]): Promise<Sibling[]> {
  const ids = [];
  for (const path of older) ids.push({ path, id: await identify(path) });
  return ids;
}

/**
 * Whether `a` and `b` hold the same text: osquery compresses NAME.1 into NAME.2.zst before
 * it renames the live file onto NAME.1, and a crash between the two leaves both. Their first
 * bytes tell most pairs apart; files that begin alike (the same first lines) are compared
 * whole.
 */
async function sameText(a: Sibling, b: Sibling): Promise<boolean> {
  if (a.id === null || b.id === null || !a.id.head.equals(b.id.head)) return false;
  const x = await textDigest(a.path);
  return x !== null && x === (await textDigest(b.path));
}

/** The readable files of `ids` after index `from` (-1: all), in order, less a copy of the one before it. */
async function newer(ids: Sibling[], from: number): Promise<Sibling[]> {
  const out: Sibling[] = [];
  let last = ids[from] ?? null;
  for (let i = from + 1; i < ids.length; i++) {
    const next = ids[i]!;
    if (next.id === null) continue;
    if (last !== null && (await sameText(last, next))) continue;
    last = next;
    out.push(next);
  }
  return out;
}

/**
 * Which of `ids` is the file `known` describes: the one with its inode, else a copy of its
 * text (an archive of it); -1 when none is it. With the files after it (see {@link newer}:
 * all of them when none is it). A short fingerprint (a file of a few lines) fits every file
 * that begins with the same lines: then the oldest that fits, which may send lines twice but
 * never loses one, and `ambiguous` says so.
 */
async function find(known: Known, ids: Sibling[]): Promise<{ match: number; after: Sibling[]; ambiguous: boolean }> {
  const how = ids.map((x) => (x.id === null ? null : sameFile(known, x.id)));
  const inode = how.indexOf('inode');
  const copies = how.flatMap((h, i) => (h === 'content' ? [i] : []));
  const match = inode !== -1 ? inode : (copies[0] ?? -1);
  const after = await newer(ids, match);
  // Copies of one text are no doubt (.1 and the .2.zst made from it): newer() reads one.
  const ambiguous = inode === -1 && copies.slice(1).some((i) => after.includes(ids[i]!));
  return { match, after, ambiguous };
}

/** The notice for files that begin alike and cannot be told apart. */
function alike(what: string, oldest: string): string {
  return `rotated files begin like the file read last (${what}) and cannot be told apart: going on from the oldest, ${oldest}; lines already delivered may be sent again`;
}

/**
 * Where to go on with `key`, whose saved position is `saved`: in the file now at `live`
 * when it is the same file (its inode); else in the rotated sibling (`older`, oldest
 * first) that is it (see {@link find}), followed by every newer sibling and the live file
 * from their starts. When it is nowhere, every sibling is read, and `lost` says that what it
 * held after the saved offset may be missing.
 */
export async function plan(key: string, saved: Saved, live: string | null, older: string[]): Promise<Plan> {
  const start0 = { offset: 0, line: 0 };
  if (live !== null) {
    const id = await identify(live);
    if (id !== null && sameFile(saved.file, id) === 'inode') return { before: [], live: saved.start, last: null, lost: null, notice: null };
  }
  const ids = await identities(older);
  const { match, after, ambiguous } = await find(saved.file, ids);
  let from = saved.start;
  // The saved offset is a line's start in the bytes files that begin alike share, not past them.
  if (ambiguous && from.offset > saved.file.headLength) from = start0;
  if (match === -1 && saved.finished) {
    // Read to its end once it had left its name: nothing of it is missing. (A newer file that
    // appeared and was rotated away before its position was saved, within a second, would be.)
    return { before: [], live: 'beginning', last: null, lost: null, notice: `the file read last (${saved.path}) was read to its end and is gone; reading the file there now from its start` };
  }
  const files = [...(match === -1 ? [] : [ids[match]!]), ...after];
  const before: Source[] = files.map((x, i) => ({ path: x.path, key, start: i === 0 && match !== -1 ? from : start0 }));
  const lost = match === -1 ? `the file read last (${saved.path}, delivered up to byte ${saved.start.offset}) is no longer there nor among its rotated files: whatever it held after that may be missing; every rotated file there is read, oldest first` : null;
  return { before, live: 'beginning', last: files[files.length - 1]?.id ?? null, lost, notice: ambiguous ? alike(saved.path, ids[match]!.path) : null };
}

/** Files that came after one that was read, found among its name's older files. */
export interface Between {
  /** Oldest first, with their identities (the last is where to look from next time). */
  files: Array<{ path: string; id: FileId }>;
  /** Said when files that begin alike could not be told apart (see {@link find}). */
  notice: string | null;
}

/**
 * The files that came after `done` in its name's history (`older`, oldest first), while
 * nobody looked, less `except` (the file at the name `name` now, if it is among them): a follower
 * reads these before the file it finds at the name. Two rotations (or two glog worker
 * restarts) between two looks leave a file that was at the name only briefly; it is among
 * the older files now. Empty when `done` is not among them (deleted: then nothing is known
 * of what came between).
 */
export async function between(done: FileId, older: string[], except: FileId | null, name: string): Promise<Between> {
  const ids = await identities(older);
  const { match, after, ambiguous } = await find(remember(done), ids);
  if (match === -1) return { files: [], notice: null };
  const files = after.filter((x) => except === null || x.id!.ino !== except.ino || x.id!.dev !== except.dev);
  return { files: files.map((x) => ({ path: x.path, id: x.id! })), notice: ambiguous ? alike(name, ids[match]!.path) : null };
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
