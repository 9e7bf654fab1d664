/** A port that was free a moment ago (listen on 0, read it, close), for programs that cannot report one they chose. */
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no address'));
      server.close(() => resolvePort(address.port));
    });
  });
}
