#!/usr/bin/env node
// A test receiver: listens on 127.0.0.1:PORT (port 0 picks one), appends every complete line
// it reads to FILE (first cutting off a last line a killed receiver left torn), prints
// "listening PORT" on stdout once ready. SIGUSR2 makes it close every connection (FIN, then
// close(2): what it had not read is reset), stop listening for a second, and listen again.
// With `tls`, CERT and KEY (and CA, to require client certificates) come from the environment.
//   node test/receiver.mjs PORT FILE [tls]
import { appendFileSync, closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync } from 'node:fs';
import { createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

const [portArg, file, mode] = process.argv.slice(2);

// A receiver SIGKILLed inside a large append can leave part of it (Linux stops a write to a
// file between pages for a fatal signal): like a receiver recovering its file, the torn last
// line is cut off before anything is appended. What it held was not received whole; oqfwd's
// replay, or the test's count of missing events, answers for it.
if (existsSync(file)) {
  const fd = openSync(file, 'r+');
  let end = fstatSync(fd).size;
  const buf = Buffer.alloc(64 * 1024);
  let keep = 0;
  while (end > 0) {
    const from = Math.max(0, end - buf.length);
    const n = readSync(fd, buf, 0, end - from, from);
    const nl = buf.subarray(0, n).lastIndexOf(10);
    if (nl !== -1) {
      keep = from + nl + 1;
      break;
    }
    end = from;
  }
  if (keep < fstatSync(fd).size) ftruncateSync(fd, keep);
  closeSync(fd);
}
const sockets = new Set();
const onConnection = (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  let rest = '';
  socket.setEncoding('utf8');
  socket.on('data', (d) => {
    const text = rest + d;
    const end = text.lastIndexOf('\n') + 1;
    if (end > 0) appendFileSync(file, text.slice(0, end));
    rest = text.slice(end);
  });
  socket.on('end', () => socket.end());
  socket.on('error', () => {});
};
const server =
  mode === 'tls'
    ? createTlsServer(
        {
          cert: readFileSync(process.env.CERT),
          key: readFileSync(process.env.KEY),
          ...(process.env.CA ? { ca: readFileSync(process.env.CA), requestCert: true, rejectUnauthorized: true } : {}),
        },
        onConnection,
      )
    : createServer(onConnection);
server.on('tlsClientError', () => {});
server.listen(Number(portArg), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGUSR2', () => {
  const port = server.address().port;
  server.close();
  for (const s of sockets) {
    s.end();
    s.destroy();
  }
  setTimeout(() => server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`)), 1000);
});
