import t from 'tap';
import { fromBinary } from '../lib/json-raw.js';
import { LineSplitter, LONG_LINE, type LineHandler } from '../lib/lines.js';

interface Got {
  lines: Array<[string, number, boolean]>;
  overlong: Array<[number, number]>;
  /** Numbers of the lines that came as bytes. */
  long: number[];
}

function split(chunks: Buffer[], max = 1 << 20, longLine = LONG_LINE): Got {
  const got: Got = { lines: [], overlong: [], long: [] };
  const h: LineHandler = {
    line: (text, no, _piece, bad) => got.lines.push([fromBinary(text), no, bad]),
    longLine: (parts, no) => {
      got.lines.push([Buffer.concat(parts).toString('utf8'), no, false]);
      got.long.push(no);
    },
    overlong: (no, bytes) => got.overlong.push([no, bytes]),
    busy: false,
  };
  const s = new LineSplitter(max, undefined, longLine);
  for (const c of chunks) s.push(c, h);
  s.end(h);
  return got;
}

function bytewise(b: Buffer): Buffer[] {
  return [...b].map((x) => Buffer.from([x]));
}

t.test('splits lines and numbers them', async (t) => {
  const got = split([Buffer.from('a\nbb\n\nccc\n')]);
  t.same(got.lines, [
    ['a', 1, false],
    ['bb', 2, false],
    ['', 3, false],
    ['ccc', 4, false],
  ]);
});

t.test('a last line without newline is still a line', async (t) => {
  t.same(split([Buffer.from('a\nb')]).lines.map((l) => l[0]), ['a', 'b']);
  t.same(split([Buffer.from('')]).lines, []);
});

t.test('byte-at-a-time input gives the same lines, multibyte UTF-8 intact', async (t) => {
  const text = 'é€😀 first\r\nsecond ✓\nthird';
  const whole = split([Buffer.from(text)]);
  const bytes = split(bytewise(Buffer.from(text)));
  t.same(bytes.lines, whole.lines);
  t.same(whole.lines.map((l) => l[0]), ['é€😀 first', 'second ✓', 'third']);
  t.notOk(bytes.lines.some((l) => l[2]), 'no line is flagged as bad UTF-8');
});

t.test('every chunking of a text gives the same lines', async (t) => {
  const text = Buffer.from('{"a":"é"}\r\n\n€€€\nxyz\n😀😀\n');
  const expect = split([text]).lines;
  for (let cut = 1; cut < text.length; cut++) {
    t.same(split([text.subarray(0, cut), text.subarray(cut)]).lines, expect, `cut at ${cut}`);
  }
});

t.test('strips CRLF and a leading BOM', async (t) => {
  const got = split([Buffer.from('\uFEFFone\r\ntwo\r\n')]);
  t.same(got.lines.map((l) => l[0]), ['one', 'two']);
});

t.test('a line longer than the limit is skipped and counted, the next one is kept', async (t) => {
  const big = 'x'.repeat(100);
  const got = split(bytewise(Buffer.from(`ok\n${big}\nafter\n`)), 50);
  t.same(got.lines.map((l) => [l[0], l[1]]), [
    ['ok', 1],
    ['after', 3],
  ]);
  t.same(got.overlong, [[2, 100]]);
  const inOneChunk = split([Buffer.from(`ok\n${big}\nafter`)], 50);
  t.same(inOneChunk.overlong, [[2, 100]]);
  t.same(inOneChunk.lines.map((l) => l[0]), ['ok', 'after']);
});

t.test('the limit is in bytes, not characters', async (t) => {
  const got = split([Buffer.from('€€€€\n')], 10); // 12 bytes
  t.same(got.overlong, [[1, 12]]);
  t.same(split([Buffer.from('€€€\n')], 10).lines.map((l) => l[0]), ['€€€']);
});

t.test('memory stays bounded inside an overlong line', async (t) => {
  const s = new LineSplitter(1000);
  const h: LineHandler = { line: () => t.fail('no line expected'), longLine: () => t.fail('no line expected'), overlong: (_n, bytes) => t.equal(bytes, 1000 * 1000), busy: false };
  const chunk = Buffer.alloc(1000, 0x41);
  for (let i = 0; i < 1000; i++) s.push(chunk, h);
  // The splitter holds nothing of the line: its only state is a byte count.
  t.equal((s as unknown as { pending: Buffer[] }).pending.length, 0);
  s.end(h);
});

t.test('invalid UTF-8 is replaced and flagged; a real U+FFFD is not flagged', async (t) => {
  const bad = Buffer.concat([Buffer.from('a'), Buffer.from([0xff, 0xc3]), Buffer.from('b\nok \uFFFD\n')]);
  const got = split([bad]);
  t.equal(got.lines.length, 2);
  t.equal(got.lines[0]![2], true);
  t.match(got.lines[0]![0], /^a\uFFFD+b$/);
  t.same(got.lines[1], ['ok \uFFFD', 2, false]);
  t.same(split(bytewise(bad)).lines, got.lines, 'same when fed byte by byte');
});

t.test('pieces are safe and plain only when every line in them is', async (t) => {
  const flagsOf = (text: string): string[] => {
    const got: string[] = [];
    const s = new LineSplitter(1 << 20);
    const h: LineHandler = {
      line: (_t, _n, p) => got.push(`${p.isSafe() ? 'safe' : '-'} ${p.isPlain() ? 'plain' : '-'}`),
      longLine: () => t.fail('no long line'),
      overlong: () => t.fail('no overlong line'),
      busy: false,
    };
    s.push(Buffer.from(text), h);
    s.end(h);
    return got;
  };
  t.same(flagsOf('abc\ndef\n'), ['safe plain', 'safe plain']);
  t.same(flagsOf('{"a":1}\nb\n'), ['safe -', 'safe -'], 'a quote needs escaping in a JSON string');
  t.same(flagsOf('a\u2028\nb\n'), ['- -', '- -'], 'U+2028 is neither safe nor plain');
  t.same(flagsOf('a\tb\nc\n'), ['- -', '- -']);
  const flags = flagsOf(('x'.repeat(100) + '\n').repeat(2000) + 'y\u0085\n');
  t.equal(flags[0], 'safe plain', 'a piece far from the bad line is clean');
  t.equal(flags.at(-1), '- -', 'the piece with the bad line is not');
  const last = flagsOf('ok\nlast without newline \u2028');
  t.same(last, ['safe plain', '- -'], 'a line handled on its own is never assumed clean');
});

t.test('a busy handler stops the splitter after each line; resume goes on where it stopped', async (t) => {
  // The 70,000-byte line comes as bytes (longLine 50,000 here), the others as text.
  const text = Buffer.from('one\ntwo\n' + 'x'.repeat(70000) + '\nthree\n\u20ac\xff\nfour\nfive');
  const want = split([text]).lines.map((l) => l[0]);
  for (const size of [1, 7, 100, 65536, text.length]) {
    const got: string[] = [];
    let busy = false;
    const h: LineHandler = {
      line: (line) => {
        got.push(fromBinary(line));
        busy = true; // every line makes the handler wait
      },
      longLine: (parts) => {
        got.push(Buffer.concat(parts).toString('utf8'));
        busy = true;
      },
      overlong: () => t.fail('no overlong line'),
      get busy() {
        return busy;
      },
    };
    const s = new LineSplitter(1 << 20, undefined, 50000);
    const settle = (): void => {
      while (busy) {
        busy = false;
        s.resume(h);
      }
    };
    for (let i = 0; i < text.length; i += size) {
      s.push(text.subarray(i, i + size), h);
      settle();
    }
    s.end(h);
    settle();
    t.same(got, want, `chunks of ${size}`);
  }
});

t.test('every line knows where it starts, and the splitter where its unread bytes begin, however the input is cut', async (t) => {
  // Plain lines, a multibyte one, an invalid byte (the slow path), CRLF, an overlong one.
  const text = Buffer.concat([Buffer.from('alpha\nbé\r\n\n'), Buffer.from([0x61, 0xff, 0x0a]), Buffer.from('x'.repeat(40) + '\nlast\npart')]);
  const starts: number[] = [];
  for (let i = -1; i < text.length; i = text.indexOf(10, i + 1)) {
    if (i + 1 < text.length) starts.push(i + 1);
    if (text.indexOf(10, i + 1) === -1) break;
  }
  const lineStarts = starts.slice(0, -1); // 'part' has no newline: not handed out until the end
  for (const cut of [text.length, 7, 3, 1]) {
    const seen: number[] = [];
    // Lines of 12 bytes or more come as bytes: their starts are known the same way.
    const s = new LineSplitter(30, { offset: 1000, line: 10 }, 12);
    const h: LineHandler = {
      line: (_t, no) => seen.push(s.lineAt - 1000, no),
      longLine: (_b, no) => seen.push(s.lineAt - 1000, no),
      overlong: (no) => seen.push(s.lineAt - 1000, no),
      busy: false,
    };
    for (let at = 0; at < text.length; at += cut) {
      s.push(text.subarray(at, at + cut), h);
      // Everything before `position` was handed out, everything after it was not.
      const fed = Math.min(at + cut, text.length);
      const handed = lineStarts.filter((x) => x < fed && text.indexOf(10, x) < fed).length;
      const expected = handed === lineStarts.length ? starts[starts.length - 1]! : lineStarts[handed]!;
      t.equal(s.position - 1000, Math.min(expected, fed), `cut ${cut}: position after ${fed} bytes`);
    }
    t.same(
      seen,
      lineStarts.flatMap((x, i) => [x, 11 + i]),
      `cut ${cut}: each line's start and number, counted on from the start given`,
    );
    t.equal(s.partial, 4, `cut ${cut}: 'part' is held`);
    s.drop();
    t.equal(s.position - 1000, starts[starts.length - 1], `cut ${cut}: dropped, the position is its start`);
  }
});

t.test('a line of at least longLine bytes comes as its bytes, whatever the chunking; the same text as a short line', async (t) => {
  const long = '{"a":"' + 'é'.repeat(30) + '"}';
  const text = Buffer.from(`short\n\ufeff${long}\r\n${long}\nx\n${long}`);
  const want = split([text]).lines;
  t.same(split([text]).long, [], 'by default these are short lines');
  for (const size of [1, 5, 64, text.length]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < text.length; i += size) chunks.push(text.subarray(i, i + size));
    const got = split(chunks, 1 << 20, 20);
    t.same(got.long, [2, 3, 5], `chunks of ${size}: the long lines, the last one without its newline too`);
    t.same(got.lines, want, `chunks of ${size}: the same lines, BOM and CR cut`);
  }
  const bad = Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(40, 0x41), Buffer.from([0xff]), Buffer.from('"}\n')]);
  const got = split([bad], 1 << 20, 20);
  t.same(got.long, [], 'invalid UTF-8: read as text, to be replaced');
  t.same(got.lines[0]![2], true);
  t.same(split([Buffer.from('x'.repeat(30) + '\n')], 25, 20).overlong, [[1, 30]], 'longer than the limit: still overlong');
});

t.test('a long line held across reads comes as its pieces: UTF-8 cut between them, a BOM or CR in a piece of its own, tiny pieces copied together', async (t) => {
  const body = '{"a":"' + 'é😀€'.repeat(20) + '"}';
  const text = Buffer.from('\ufeff' + body + '\r\nnext\n');
  for (const size of [1, 2, 3, 5, 7, 4096, 5000]) {
    const pieces: number[] = [];
    const lines: string[] = [];
    const h: LineHandler = {
      line: (l) => void lines.push(fromBinary(l)),
      longLine: (parts) => {
        pieces.push(parts.length);
        t.ok(parts.every((p) => p.length > 0), `chunks of ${size}: no empty piece`);
        lines.push(Buffer.concat(parts).toString('utf8'));
      },
      overlong: () => t.fail('no overlong line'),
      busy: false,
    };
    const s = new LineSplitter(1 << 20, undefined, 100);
    for (let i = 0; i < text.length; i += size) s.push(text.subarray(i, i + size), h);
    s.end(h);
    t.same(lines, [body, 'next'], `chunks of ${size}: the line without BOM and CR, then the next`);
    t.equal(pieces.length, 1, `chunks of ${size}: one long line`);
    t.ok(pieces[0]! <= (size < 4096 ? 1 : Math.ceil(text.length / size)), `chunks of ${size}: ${pieces[0]} pieces`);
  }
  // Invalid UTF-8, cut between pieces or not: read as text, replaced and flagged.
  for (const tail of [Buffer.from([0xf0, 0x9f]), Buffer.from([0xe2, 0x82, 0x41]), Buffer.from([0xc0, 0x80])]) {
    const bad = Buffer.concat([Buffer.from('{"a":"' + 'x'.repeat(200)), tail, Buffer.from('"}\n')]);
    for (const size of [1, 3, 64]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bad.length; i += size) chunks.push(bad.subarray(i, i + size));
      const got = split(chunks, 1 << 20, 100);
      t.same(got.long, [], `${tail.toString('hex')} in chunks of ${size}: not handed out as bytes`);
      t.equal(got.lines[0]![2], true, `${tail.toString('hex')} in chunks of ${size}: flagged as replaced`);
    }
  }
});
