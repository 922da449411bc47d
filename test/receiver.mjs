#!/usr/bin/env node
// A test receiver: listens on 127.0.0.1:PORT (port 0 picks one), appends every complete line
// it reads to FILE, prints "listening PORT" on stdout once ready. SIGUSR2 makes it close
// every connection (FIN, then close(2): what it had not read is reset), stop listening for a
// second, and listen again. With `tls`,
// CERT and KEY (and CA, to require client certificates) come from the environment.
//   node test/receiver.mjs PORT FILE [tls]
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

const [portArg, file, mode] = process.argv.slice(2);
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
