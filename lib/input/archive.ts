import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

/** How an input's bytes are stored, told by its first bytes (never by its name). */
export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** A compressed input that ends early or holds bytes its format does not allow. */
export class ArchiveError extends Error {}

/**
 * The compression `head` starts with, or null while `head` is a proper prefix of a magic
 * number (more bytes are needed to tell). Text never starts with these bytes: 0x8b and
 * 0xb5 are UTF-8 continuation bytes and cannot follow 0x1f or 0x28.
 */
export function compressionOf(head: Uint8Array): Compression | null {
  for (const [kind, magic] of [['gzip', GZIP_MAGIC], ['zstd', ZSTD_MAGIC]] as const) {
    const n = Math.min(head.length, magic.length);
    let same = true;
    for (let i = 0; i < n && same; i++) same = head[i] === magic[i];
    if (!same) continue;
    return n === magic.length ? kind : null;
  }
  return 'none';
}

/**
 * The decoder expands whatever it is handed in one call, and a block of 128 KiB can take a
 * few bytes: compressed input goes in slices sized so that a call yields about this much.
 */
const ZSTD_STEP_OUTPUT = 1024 * 1024;
const ZSTD_SLICE_MIN = 64;
const ZSTD_SLICE_MAX = 64 * 1024;

/**
 * The bytes of `chunks`, decompressed when they start with a gzip or zstd magic number
 * (concatenated gzip members and zstd frames too). A truncated or corrupt archive yields
 * everything before the damage, then throws an ArchiveError; errors of `chunks` itself go
 * through as they are. Memory stays bounded by the formats' windows, whatever the ratio.
 */
export async function* decompressed(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = chunks[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  let kind: Compression | null = null;
  let ended = false;
  // Wait for more bytes only while what came so far could still be a magic number: a live
  // pipe that sent "{}\n" must not wait for a fourth byte.
  while (kind === null) {
    const next = await it.next();
    if (next.done === true) {
      ended = true;
      kind = 'none';
      break;
    }
    head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    kind = compressionOf(head);
  }
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const next = await it.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  if (kind === 'none') yield* all();
  else if (kind === 'gzip') yield* gunzip(all());
  else yield* unzstd(all());
}

async function* gunzip(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const source = Readable.from(chunks, { objectMode: false });
  const z = createGunzip();
  let sourceError: unknown = null;
  source.on('error', (err) => {
    sourceError = err;
    z.destroy(err);
  });
  source.pipe(z);
  try {
    for await (const c of z) yield c as Buffer;
  } catch (err) {
    if (sourceError !== null) throw sourceError;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ArchiveError(code === 'Z_BUF_ERROR' ? 'truncated gzip archive' : `corrupt gzip archive (${(err as Error).message})`);
  } finally {
    source.destroy();
    z.destroy();
  }
}

async function* unzstd(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  let out: Buffer[] = [];
  // Each block comes out in memory of its own that the decoder does not write again (it
  // copies the block into its window): it is handed on without a copy.
  const d = new Decompress((data) => {
    if (data.length > 0) out.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });
  /** Decodes `c`: the blocks that came out, and the damage found after them, if any. */
  const step = (c: Uint8Array, final: boolean): { blocks: Buffer[]; failure: ArchiveError | null } => {
    let failure: ArchiveError | null = null;
    try {
      d.push(c, final);
    } catch (err) {
      const code = (err as { code?: number }).code;
      failure = new ArchiveError(code === 5 ? 'truncated zstd archive' : `corrupt zstd archive (${(err as Error).message})`);
    }
    const blocks = out;
    out = [];
    return { blocks, failure };
  };
  let any = false;
  let slice = ZSTD_SLICE_MIN; // grows while the output stays small
  for await (const chunk of chunks) {
    any = true;
    for (let at = 0; at < chunk.length; ) {
      const { blocks, failure } = step(chunk.subarray(at, at + slice), false);
      at += slice;
      let size = 0;
      for (const b of blocks) size += b.length;
      if (size > 2 * ZSTD_STEP_OUTPUT) slice = Math.max(ZSTD_SLICE_MIN, slice >> 1);
      else if (size < ZSTD_STEP_OUTPUT / 2) slice = Math.min(ZSTD_SLICE_MAX, slice << 1);
      yield* blocks;
      if (failure !== null) throw failure;
    }
  }
  if (!any) return;
  const { blocks, failure } = step(new Uint8Array(0), true);
  yield* blocks;
  if (failure !== null) throw failure;
}
