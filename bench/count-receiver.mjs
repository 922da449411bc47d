#!/usr/bin/env node
// Counts the lines that arrive on 127.0.0.1:PORT; prints "done" once it has EXPECT of them
// (or "timeout N" after TIMEOUT seconds, and exits 1). Then it behaves as a receiver that read
// everything: it answers the sender's FIN with its own and exits once the connections are
// closed (at most 5 s later: rsyslog's omfwd keeps its connection). Prints "listening PORT" first.
// With `relp`, it is a RELP server instead that counts `syslog` frames and acknowledges each
// (the responses to one read in one write, as cheap as a receiver can be).
//   node bench/count-receiver.mjs PORT EXPECT [TIMEOUT] [relp]
import { createServer } from 'node:net';

const [portArg, expectArg, timeoutArg = '600', mode = 'tcp'] = process.argv.slice(2);
const expect = Number(expectArg);
let count = 0;
let open = 0;
let done = false;
const finish = () => {
  if (done) return;
  done = true;
  console.log('done');
  if (open === 0) process.exit(0);
  setTimeout(() => process.exit(0), 5000).unref();
};
/** RELP frames `TXNR SP COMMAND SP DATALEN [SP DATA] LF`, each answered with an `rsp`. */
function relp(socket) {
  let rest = Buffer.alloc(0);
  socket.on('data', (d) => {
    let buf = rest.length === 0 ? d : Buffer.concat([rest, d]);
    let out = '';
    for (;;) {
      const sp1 = buf.indexOf(32);
      const sp2 = sp1 === -1 ? -1 : buf.indexOf(32, sp1 + 1);
      if (sp2 === -1) break;
      let lenEnd = sp2 + 1;
      while (lenEnd < buf.length && buf[lenEnd] >= 48 && buf[lenEnd] <= 57) lenEnd++;
      if (lenEnd === buf.length) break;
      const len = Number(buf.toString('latin1', sp2 + 1, lenEnd));
      const end = lenEnd + (len > 0 ? 1 : 0) + len;
      if (buf.length <= end) break;
      const txnr = buf.toString('latin1', 0, sp1);
      const command = buf.toString('latin1', sp1 + 1, sp2);
      if (command === 'open') out += `${txnr} rsp 37 200 OK\nrelp_version=0\ncommands=syslog\n`;
      else if (command === 'close') out += `${txnr} rsp 0\n`;
      else {
        out += `${txnr} rsp 6 200 OK\n`;
        count++;
      }
      buf = buf.subarray(end + 1);
    }
    rest = Buffer.from(buf);
    if (out !== '') socket.write(out);
    if (count >= expect) finish();
  });
}

const server = createServer((socket) => {
  open++;
  if (mode === 'relp') relp(socket);
  else
    socket.on('data', (d) => {
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) count++;
      if (count >= expect) finish();
    });
  socket.on('end', () => socket.end());
  socket.on('close', () => {
    if (--open === 0 && done) process.exit(0);
  });
  socket.on('error', () => {});
});
server.listen(Number(portArg), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
setTimeout(() => {
  console.log(`timeout ${count}`);
  process.exit(1);
}, Number(timeoutArg) * 1000).unref();
