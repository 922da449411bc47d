import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { remember, type FileId, type Known } from './identity.js';
import type { Start } from './files.js';

/** The format of state files this oqfwd writes; it refuses to trust any other. */
export const STATE_VERSION = 1;

/** What the state file says of one input name. */
export interface Saved {
  /** The file that was being read at the name (it may have been renamed since). */
  file: Known;
  /** Where the file was delivered up to: a line start, and the lines before it. */
  start: Start;
  /** Where it was last read, for people (it may have moved since). */
  path: string;
  /** The file was read to its end after it left its name (renamed, deleted): no more can come to it. */
  finished: boolean;
}

/** One name's position as the run goes: the file as met now, its head still growing. */
interface Live {
  file: FileId;
  start: Start;
  path: string;
  finished: boolean;
}

/** The key of a name in the state: its absolute path, so that the working directory does not matter. */
export function stateKey(name: string): string {
  return resolve(name);
}

/**
 * The --state file: for each input name, which file was read there and up to where its
 * events were delivered. Loading never trusts a file it cannot vouch for (corrupt, another
 * program's, a newer format): it is set aside under a new name and the run starts without
 * it, said on stderr. Saving is atomic (a temporary file, fsync, rename, fsync of the
 * directory), so a crash at any moment leaves the old state or the new one, whole, mode 0600.
 */
export class StateFile {
  private readonly saved = new Map<string, Saved>();
  private readonly live = new Map<string, Live>();
  private changed = false;
  private saving: Promise<void> = Promise.resolve();

  private locked = false;

  private constructor(readonly path: string) {}

  /** The lock beside the state file: one process per state file, or they undo each other's saves. */
  private get lockPath(): string {
    return this.path + '.lock';
  }

  /**
   * Takes the lock (FILE.lock, holding our pid). A lock whose process is gone (kill -9) is
   * taken over; one held by a running oqfwd throws a StateInUse.
   */
  private async lock(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(this.lockPath, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        this.locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).trim());
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isOqfwd(pid)) throw new StateInUse(`in use by oqfwd process ${pid} (one process per state file)`);
      await unlink(this.lockPath).catch(() => {});
    }
    throw new StateInUse('its lock file keeps coming back');
  }

  /** Lets go of the lock: the run is over. */
  async release(): Promise<void> {
    if (!this.locked) return;
    this.locked = false;
    await unlink(this.lockPath).catch(() => {});
  }

  /**
   * Takes the lock and reads `path` (a missing file is an empty state). `notice` is told of
   * a file set aside. Throws a StateInUse, or what the file system throws when the file
   * exists and cannot be read.
   */
  static async load(path: string, notice: (message: string) => void): Promise<StateFile> {
    const state = new StateFile(path);
    await state.lock();
    try {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return state;
        throw err;
      }
      const problem = state.parse(text);
      if (problem !== null) {
        const aside = `${path}.untrusted-${Date.now()}`;
        await rename(path, aside);
        notice(`${path}: ${problem}; set aside as ${basename(aside)}, starting without it`);
      }
      return state;
    } catch (err) {
      await state.release();
      throw err;
    }
  }

  /** Takes the entries of `text`; null, or why it is not trusted. */
  private parse(text: string): string | null {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return 'not valid JSON (damaged?)';
    }
    const d = doc as { oqfwd?: unknown; version?: unknown; inputs?: unknown };
    if (typeof d !== 'object' || d === null || d.oqfwd !== 'state') return 'not an oqfwd state file';
    if (d.version !== STATE_VERSION) {
      return typeof d.version === 'number' && d.version > STATE_VERSION ? `written by a newer oqfwd (format ${d.version}; this one reads ${STATE_VERSION})` : 'an unknown format version';
    }
    if (!Array.isArray(d.inputs)) return 'no list of inputs';
    const entries: Array<[string, Saved]> = [];
    for (const e of d.inputs as unknown[]) {
      const saved = entry(e);
      if (saved === null) return 'an input entry is damaged';
      entries.push(saved);
    }
    for (const [k, v] of entries) this.saved.set(k, v);
    return null;
  }

  /** What the file said of `key` when loaded, if anything. */
  get(key: string): Saved | undefined {
    return this.saved.get(key);
  }

  /** `key` was delivered up to `start` of `file`, read at `path`; `finished`: to its very end, for good. */
  set(key: string, file: FileId, start: Start, path: string, finished = false): void {
    const l = this.live.get(key);
    if (l !== undefined && l.file === file && l.start.offset === start.offset && l.finished === finished) return;
    this.live.set(key, { file, start, path: resolve(path), finished });
    this.changed = true;
  }

  /** Writes the state if anything changed since the last save; saves never overlap. */
  save(): Promise<void> {
    const next = this.saving.then(() => this.write());
    this.saving = next.catch(() => {});
    return next;
  }

  private async write(): Promise<void> {
    if (!this.changed) return;
    this.changed = false;
    for (const [k, l] of this.live) this.saved.set(k, { file: remember(l.file), start: l.start, path: l.path, finished: l.finished });
    const inputs = [...this.saved].map(([name, s]) => ({ name, path: s.path, dev: s.file.dev, ino: s.file.ino, ...(s.file.birth !== undefined && s.file.birth !== '0' && { birth: s.file.birth }), headLength: s.file.headLength, sha256: s.file.sha256, offset: s.start.offset, line: s.start.line, ...(s.finished && { finished: true }) }));
    const text = JSON.stringify({ oqfwd: 'state', version: STATE_VERSION, inputs }, null, 1) + '\n';
    const temp = join(dirname(this.path), `.${basename(this.path)}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const fh = await open(temp, 'wx', 0o600);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, this.path);
    } catch (err) {
      this.changed = true; // try again at the next save
      await unlink(temp).catch(() => {});
      throw err;
    }
    // The rename itself must reach the disk: the directory's entry.
    const dir = await open(dirname(this.path), 'r').catch(() => null);
    if (dir !== null) await dir.sync().catch(() => {}).finally(() => dir.close());
  }
}

/** Another oqfwd uses the state file now. */
export class StateInUse extends Error {}

/** Whether `pid` is a running oqfwd (where /proc tells; elsewhere, any running process). */
function isOqfwd(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('oqfwd');
  } catch {
    return process.platform !== 'linux';
  }
}

/** One input of a state file, checked; null when anything is missing or of the wrong type. */
function entry(e: unknown): [string, Saved] | null {
  const o = e as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) return null;
  const { name, path, dev, ino, birth, headLength, sha256, offset, line, finished } = o;
  if (finished !== undefined && typeof finished !== 'boolean') return null;
  if (typeof name !== 'string' || typeof path !== 'string' || typeof dev !== 'string' || typeof ino !== 'string' || typeof sha256 !== 'string') return null;
  if (!/^\d+$/.test(dev) || !/^\d+$/.test(ino) || !/^[0-9a-f]{64}$/.test(sha256)) return null;
  if (birth !== undefined && (typeof birth !== 'string' || !/^\d+$/.test(birth))) return null;
  if (!isCount(headLength) || !isCount(offset) || !isCount(line)) return null;
  return [name, { file: { dev, ino, ...(birth !== undefined && { birth }), headLength, sha256 }, start: { offset, line }, path, finished: finished === true }];
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
