// A TCP port free on every given loopback address (checked by binding it), for the throwaway
// sshd instances of the tests and the fan-out benchmark.
import { createServer } from 'node:net';

export async function freePort(addresses) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    let ok = true;
    for (const a of addresses) {
      ok = await new Promise((resolve) => {
        const s = createServer();
        s.once('error', () => resolve(false));
        s.listen(port, a, () => s.close(() => resolve(true)));
      });
      if (!ok) break;
    }
    if (ok) return port;
  }
  throw new Error(`no free port on ${addresses.join(', ')}`);
}
