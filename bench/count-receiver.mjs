#!/usr/bin/env node
// Counts the lines that arrive on 127.0.0.1:PORT; exits once it has EXPECT of them, printing
// "done" (or after TIMEOUT seconds, printing "timeout N"). Prints "listening PORT" first.
//   node bench/count-receiver.mjs PORT EXPECT [TIMEOUT]
import { createServer } from 'node:net';

const [portArg, expectArg, timeoutArg = '600'] = process.argv.slice(2);
const expect = Number(expectArg);
let count = 0;
const server = createServer((socket) => {
  socket.on('data', (d) => {
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) count++;
    if (count >= expect) {
      console.log('done');
      process.exit(0);
    }
  });
  socket.on('error', () => {});
});
server.listen(Number(portArg), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
setTimeout(() => {
  console.log(`timeout ${count}`);
  process.exit(1);
}, Number(timeoutArg) * 1000).unref();
