// A proxy between the services and RabbitMQ (TCP on loopback) or MariaDB (a unix socket), so a
// chaos script can take the broker or the database away from them without touching the server
// itself (other engineers share it). stop() is a hard outage: the listener closes (new connections
// are refused; a unix socket's file is gone, as when mariadbd stops) and every live socket is
// destroyed (the services see a reset, as when the server's host dies); start() reopens on the
// same port or path.
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where the proxy forwards to: a TCP port (and host) or a unix socket's path. */
export type Upstream = { port: number; host?: string } | { path: string };

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  /** Connections accepted since construction (each reconnect of a service counts). */
  accepted = 0;

  /** listenPath: listen on this unix socket instead of a loopback port. */
  constructor(
    private readonly upstream: Upstream = { port: 5672, host: '127.0.0.1' },
    private readonly listenPath?: string,
  ) {}

  get listening(): boolean {
    return this.server !== null;
  }

  /** Listen on 127.0.0.1 (a free port the first time, the same port afterwards) or on listenPath. */
  async start(): Promise<number> {
    if (this.server) return this.port;
    const server = net.createServer((client) => this.onClient(client));
    if (this.listenPath) fs.rmSync(this.listenPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const listening = () => {
        server.off('error', reject);
        resolve();
      };
      if (this.listenPath) server.listen(this.listenPath, listening);
      else server.listen(this.port, '127.0.0.1', listening);
    });
    if (!this.listenPath) this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
    return this.port;
  }

  /** Close the listener and destroy every live connection, both halves. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * A hard outage from t0 + fromMs to t0 + toMs (Date.now() clock); `before` runs leadMs ahead of
   * it (a chaos script slows a storage command there). Resolves with when the proxy reopened.
   */
  async outage(t0: number, fromMs: number, toMs: number, before?: { leadMs: number; run: () => void }): Promise<number> {
    if (before) {
      await sleep(Math.max(0, t0 + fromMs - before.leadMs - Date.now()));
      before.run();
    }
    await sleep(Math.max(0, t0 + fromMs - Date.now()));
    await this.stop();
    await sleep(Math.max(0, t0 + toMs - Date.now()));
    await this.start();
    return Date.now();
  }

  private onClient(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.upstream);
    this.sockets.add(client);
    this.sockets.add(upstream);
    if (!this.listenPath) client.setNoDelay(true);
    if (!('path' in this.upstream)) upstream.setNoDelay(true);
    // Either side going away takes the other with it, as a broken TCP path would.
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
