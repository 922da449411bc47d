#!/usr/bin/env node
// The naive baselines oqfwd is measured against: what one would write first in Node.
//   node bench/naive.mjs MODE FILE > out
// MODE: loop     read, split by hand, JSON.parse, JSON.stringify, batched writes
//       flatten  the same loop, one event per row of batch and snapshot lines
//       glog     the same loop with a regular expression per glog line
//       split2   the loop's work, split by the split2 package (a stream hop per line)
//       ndjson   the loop's work through the ndjson package's parse and stringify streams
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform, Writable } from 'node:stream';
import split2 from 'split2';
import ndjson from 'ndjson';

const [mode, file] = process.argv.slice(2);
const out = process.stdout;

function write(text) {
  return out.write(text) ? null : new Promise((r) => out.once('drain', r));
}

const GLOG = /^([IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) +(\S+) ([^:\]]+):(\d+)\] ?(.*)$/;

function convert(line) {
  switch (mode) {
    case 'glog': {
      const m = GLOG.exec(line);
      if (m === null) return JSON.stringify({ kind: 'unparsed', raw: line });
      return JSON.stringify({ severity: 'IWEF'.indexOf(m[1]), time: `${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}.${m[7]}`, threadId: m[8], filename: m[9], line: Number(m[10]), message: m[11] });
    }
    case 'flatten': {
      const o = JSON.parse(line);
      if (o.snapshot) {
        const { snapshot, ...rest } = o;
        return snapshot.map((columns) => JSON.stringify({ ...rest, columns })).join('\n') || null;
      }
      if (o.diffResults) {
        const { diffResults, ...rest } = o;
        const rows = [...diffResults.removed.map((c) => ({ ...rest, columns: c, action: 'removed' })), ...diffResults.added.map((c) => ({ ...rest, columns: c, action: 'added' }))];
        return rows.map((r) => JSON.stringify(r)).join('\n') || null;
      }
      return JSON.stringify(o);
    }
    default:
      return JSON.stringify(JSON.parse(line));
  }
}

async function loop() {
  let rest = '';
  let batch = [];
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
    const text = rest + chunk;
    let start = 0;
    let nl;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line === '') continue;
      const o = convert(line);
      if (o !== null) batch.push(o);
    }
    rest = text.slice(start);
    if (batch.length > 0) {
      const w = write(batch.join('\n') + '\n');
      batch = [];
      if (w) await w;
    }
  }
  if (rest !== '') out.write(convert(rest) + '\n');
}

async function viaSplit2() {
  let batch = [];
  await pipeline(
    createReadStream(file),
    split2(),
    new Writable({
      objectMode: true,
      write(line, _enc, done) {
        if (line !== '') batch.push(convert(line));
        if (batch.length >= 1000) {
          const text = batch.join('\n') + '\n';
          batch = [];
          if (!out.write(text)) out.once('drain', done);
          else done();
        } else done();
      },
      final(done) {
        out.write(batch.join('\n') + '\n', done);
      },
    }),
  );
}

async function viaNdjson() {
  await pipeline(
    createReadStream(file),
    ndjson.parse(),
    new Transform({ objectMode: true, transform: (o, _e, done) => done(null, o) }),
    ndjson.stringify(),
    out,
  );
}

if (mode === 'split2') await viaSplit2();
else if (mode === 'ndjson') await viaNdjson();
else await loop();
