import { lstatSync, readdirSync } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** osquery's --logger_path by platform, as its documentation gives it. */
export function defaultOsqueryDir(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'C:\\Program Files\\osquery\\log' : '/var/log/osquery';
}

/** The logs osquery's filesystem logger writes that oqfwd reads; WARNING and ERROR repeat INFO's lines. */
export const RESULTS = 'osqueryd.results.log';
export const SNAPSHOTS = 'osqueryd.snapshots.log';
export const INFO = 'osqueryd.INFO';

/** glog's file names: osqueryd.INFO.YYYYMMDD-HHMMSS.PID. */
const GLOG_FILE = /^osqueryd\.INFO\.\d{8}-\d{6}\.\d+$/;

/** Where a sibling of a log stands in its rotation history: older ones sort first. */
function age(base: string, name: string): number[] | null {
  if (name === base) return [3];
  if (!name.startsWith(base)) return null;
  const rest = name.slice(base.length);
  // logrotate's dateext: NAME-YYYYMMDD[HH...][.gz|.zst], oldest first by date.
  const dated = /^-(\d{8,14})(?:\.(?:gz|zst))?$/.exec(rest);
  if (dated !== null) return [1, Number(dated[1])];
  // osquery's --logger_rotate (NAME.1, NAME.N.zst) and logrotate's numbered NAME.N[.gz]:
  // the higher the number, the older.
  const numbered = /^\.(\d{1,6})(?:\.(?:gz|zst))?$/.exec(rest);
  if (numbered !== null) return [2, -Number(numbered[1])];
  return null;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The older files of the log at `path`, oldest first: its rotated siblings (NAME.1,
 * NAME.N.zst, NAME.N.gz, NAME-DATE), or for a glog name (osqueryd.INFO) the files of its
 * family (NAME.YYYYMMDD-HHMMSS.PID), less the one `path` leads to now. Empty when the
 * directory cannot be read.
 */
export async function rotations(path: string): Promise<string[]> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const family = names.filter((n) => n.startsWith(base + '.') && /^\.\d{8}-\d{6}\.\d+$/.test(n.slice(base.length))).sort();
  if (family.length > 0) {
    const now = await realpath(path).catch(() => null);
    const out: string[] = [];
    for (const n of family) {
      const p = join(dir, n);
      if (now === null || (await realpath(p).catch(() => p)) !== now) out.push(p);
    }
    return out;
  }
  const aged = names.flatMap((n) => {
    const a = n === base ? null : age(base, n);
    return a === null ? [] : [{ n, a }];
  });
  aged.sort((x, y) => compare(x.a, y.a));
  return aged.map((x) => join(dir, x.n));
}

/**
 * Every osquery log in `dir` that oqfwd reads, each log's history oldest first and its live
 * file last: results, then snapshots, then the INFO status files by their time stamps.
 * Throws what readdir throws (a missing directory).
 */
export async function history(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  const out: string[] = [];
  for (const base of [RESULTS, SNAPSHOTS]) {
    const aged = names.flatMap((n) => {
      const a = age(base, n);
      return a === null ? [] : [{ n, a }];
    });
    aged.sort((x, y) => compare(x.a, y.a));
    out.push(...aged.map((x) => join(dir, x.n)));
  }
  // The names sort by their time stamps; the INFO symlink points at one of them.
  out.push(...names.filter((n) => GLOG_FILE.test(n)).sort().map((n) => join(dir, n)));
  return out;
}

/**
 * The status file to follow in `dir` now: through the INFO symlink where there is one,
 * else the newest INFO file (Windows has no symlinks). Null when there is none yet. A
 * follower asks at every poll: done in place, as its other idle checks are (see follow.ts).
 */
export async function currentInfo(dir: string): Promise<string | null> {
  const link = join(dir, INFO);
  try {
    lstatSync(link);
    return link;
  } catch {
    // no symlink: the newest file
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  const newest = names.filter((n) => GLOG_FILE.test(n)).sort().pop();
  return newest === undefined ? null : join(dir, newest);
}
