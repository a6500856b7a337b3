/**
 * A TCP proxy on loopback that delays every byte by `delayMs` in each direction (so a round trip
 * costs 2 × delayMs more), in order, half-closes included: a long-RTT link in front of a test
 * sshd. Loopback only, ever.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxyOptions {
  /** Address to listen on (127.0.0.0/8). */
  listen: string;
  port: number;
  /** Where to forward (127.0.0.0/8). */
  target: { host: string; port: number };
  /** Added one-way delay, ms. */
  delayMs: number;
}

interface Item {
  at: number;
  chunk?: Buffer;
  end?: true;
}

export class DelayProxy {
  readonly opts: DelayProxyOptions;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Connections accepted so far. */
  connections = 0;

  constructor(opts: DelayProxyOptions) {
    for (const a of [opts.listen, opts.target.host]) if (!a.startsWith('127.')) throw new Error(`the delay proxy is for loopback only, not ${a}`);
    this.opts = opts;
  }

  async start(): Promise<void> {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.listen, () => resolve());
    });
  }

  private accept(client: Socket): void {
    this.connections++;
    const upstream = connect({ host: this.opts.target.host, port: this.opts.target.port, allowHalfOpen: true, noDelay: true });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => {
        this.sockets.delete(s);
        // A reset or a full close on one side reaches the other after the delay too.
        this.later(() => (s === client ? upstream : client).destroy());
      });
    }
    this.relay(client, upstream);
    this.relay(upstream, client);
  }

  /** Copy `from` → `to`, each chunk (and the final EOF) `delayMs` after it arrived, in order. */
  private relay(from: Socket, to: Socket): void {
    const queue: Item[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      if (timer) this.timers.delete(timer);
      timer = undefined;
      const now = performance.now();
      for (let item = queue[0]; item && item.at <= now + 0.5; item = queue[0]) {
        queue.shift();
        if (to.destroyed) continue;
        if (item.end) to.end();
        else if (item.chunk) to.write(item.chunk);
      }
      const next = queue[0];
      if (next) {
        timer = setTimeout(pump, next.at - now);
        this.timers.add(timer);
      }
    };
    const push = (item: Item) => {
      queue.push(item);
      if (!timer) {
        timer = setTimeout(pump, item.at - performance.now());
        this.timers.add(timer);
      }
    };
    from.on('data', (chunk: Buffer) => push({ at: performance.now() + this.opts.delayMs, chunk }));
    from.on('end', () => push({ at: performance.now() + this.opts.delayMs, end: true }));
  }

  private later(f: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, this.opts.delayMs);
    this.timers.add(t);
  }

  /** Stop listening and drop every connection and pending delivery at once. */
  async close(): Promise<void> {
    this.closed = true;
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
