/**
 * A TLS terminator on loopback in front of a plain-http server (until `serve` speaks TLS itself):
 * a self-signed certificate for 127.0.0.1 made with openssl, and each TLS connection piped to
 * the target port. Loopback only, ever.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';

export interface TlsProxy {
  url: string;
  /** The self-signed certificate (PEM file), for --ca. */
  certFile: string;
  close: () => Promise<void>;
}

export async function startTlsProxy(dir: string, targetPort: number): Promise<TlsProxy> {
  const keyFile = join(dir, 'tls-key.pem');
  const certFile = join(dir, 'tls-cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const sockets = new Set<Socket>();
  const server: Server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (tls) => {
    const plain = connect(targetPort, '127.0.0.1');
    sockets.add(tls).add(plain);
    tls.pipe(plain).pipe(tls);
    const end = (): void => {
      tls.destroy();
      plain.destroy();
    };
    tls.on('error', end).on('close', end);
    plain.on('error', end).on('close', end);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    certFile,
    close: () => new Promise((res) => {
      for (const s of sockets) s.destroy();
      server.close(() => res());
    }),
  };
}
