import { createHash } from 'node:crypto';
import { createReadStream, type BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { compressionOf, decompressed } from './archive.js';

/**
 * Bytes at a file's start that tell it from others, beside its device and inode. The same
 * bytes also tell an archive of it (their decompressed form), and a file shorter than this
 * is told by what it has: the fingerprint grows with the file until it is this long.
 */
export const FINGERPRINT_BYTES = 1024;

/** A file as oqfwd met it: where it lives, and its first bytes as text (decompressed). */
export interface FileId {
  /** st_dev and st_ino, as decimal strings (64-bit values do not fit a JS number). */
  dev: string;
  ino: string;
  /**
   * Its birth time in nanoseconds, decimal; '0' where the file system keeps none. An inode
   * that is freed and given to a new file comes with a new birth time.
   */
  birth: string;
  /** Up to FINGERPRINT_BYTES of its first bytes; grows as they are read. */
  head: Buffer;
}

/** What a state file remembers of a file to know it again. */
export interface Known {
  dev: string;
  ino: string;
  /** Birth time as in FileId; absent in states written before it was kept. */
  birth?: string;
  /** How many first bytes the fingerprint covers. */
  headLength: number;
  /** SHA-256 of them, hex. */
  sha256: string;
}

export function remember(id: FileId): Known {
  return { dev: id.dev, ino: id.ino, birth: id.birth, headLength: id.head.length, sha256: sha256(id.head) };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Whether `id` is the file `known` describes: 'inode' when it is the same file (renamed,
 * perhaps), 'content' when it is a copy of it (an archive, logrotate's copy), else null.
 * Its first bytes must match in both cases: a new file that got a freed inode is not it.
 */
export function sameFile(known: Known, id: FileId): 'inode' | 'content' | null {
  if (id.head.length < known.headLength) return null;
  if (sha256(id.head.subarray(0, known.headLength)) !== known.sha256) return null;
  // The same inode is the same file unless both birth times are known and differ (a freed
  // inode given to a new file that begins alike: a short fingerprint cannot tell them).
  const born = known.birth === undefined || known.birth === '0' || id.birth === '0' || known.birth === id.birth;
  if (id.dev === known.dev && id.ino === known.ino && born) return 'inode';
  // An empty fingerprint fits any file: only the inode can tell then.
  return known.headLength > 0 ? 'content' : null;
}

/**
 * What an open file is: its stat, its device, inode and first bytes as stored (up to
 * FINGERPRINT_BYTES), and the archive format those bytes begin, if any.
 */
export async function firstLook(fh: FileHandle): Promise<{ stats: BigIntStats; id: FileId; archive: 'gzip' | 'zstd' | null }> {
  const stats = await fh.stat({ bigint: true });
  const first = Buffer.alloc(FINGERPRINT_BYTES);
  const head = first.subarray(0, (await fh.read(first, 0, FINGERPRINT_BYTES, 0)).bytesRead);
  const kind = compressionOf(head);
  return { stats, id: { dev: String(stats.dev), ino: String(stats.ino), birth: String(stats.birthtimeNs), head }, archive: kind === 'gzip' || kind === 'zstd' ? kind : null };
}

/** A file's identity, an archive's by its text; null when it cannot be read (gone, say). */
export async function identify(path: string): Promise<FileId | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const { stats, id, archive } = await firstLook(fh);
    if (!stats.isFile()) return null;
    if (archive === null) return id;
    return { ...id, head: await decompressedHead(fh.createReadStream({ start: 0, autoClose: false })) };
  } catch {
    return null;
  } finally {
    await fh.close().catch(() => {});
  }
}

/** The first FINGERPRINT_BYTES an archive holds (fewer if it holds fewer, or is damaged early). */
async function decompressedHead(stream: AsyncIterable<Buffer> & { destroy(): void }): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  const chunks = decompressed(stream);
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done === true) break;
      parts.push(next.value);
      n += next.value.length;
      if (n >= FINGERPRINT_BYTES) break;
    }
  } catch {
    // damaged: what came before the damage
  } finally {
    await chunks.return(undefined);
    stream.destroy();
  }
  return Buffer.from(Buffer.concat(parts).subarray(0, FINGERPRINT_BYTES)); // not the whole block
}

/**
 * SHA-256 of a file's whole text (an archive's decompressed), hex; null when it cannot be
 * read to its end. Only for two files whose first bytes are the same: whether they are
 * copies of one text or two files that begin alike.
 */
export async function textDigest(path: string): Promise<string | null> {
  const hash = createHash('sha256');
  const stream = createReadStream(path);
  try {
    for await (const chunk of decompressed(stream as AsyncIterable<Buffer>)) hash.update(chunk);
    return hash.digest('hex');
  } catch {
    return null;
  } finally {
    stream.destroy();
  }
}
