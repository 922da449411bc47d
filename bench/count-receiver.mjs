#!/usr/bin/env node
// Counts the lines that arrive on 127.0.0.1:PORT; prints "done" once it has EXPECT of them
// (or "timeout N" after TIMEOUT seconds, and exits 1). Then it behaves as a receiver that read
// everything: it answers the sender's FIN with its own and exits once the connections are
// closed (at most 5 s later: rsyslog's omfwd keeps its connection). Prints "listening PORT" first.
//   node bench/count-receiver.mjs PORT EXPECT [TIMEOUT]
import { createServer } from 'node:net';

const [portArg, expectArg, timeoutArg = '600'] = process.argv.slice(2);
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
const server = createServer((socket) => {
  open++;
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
