// A TCP proxy on loopback between the services and RabbitMQ, so a chaos script can take the broker
// away from them without touching the broker itself (other engineers share it). stop() is a hard
// outage: the listener closes (new connections are refused) and every live socket is destroyed
// (the services see a reset, as when the broker host dies); start() reopens on the same port.
import net from 'node:net';

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  /** Connections accepted since construction (each reconnect of a service counts). */
  accepted = 0;

  constructor(
    private readonly upstreamPort = 5672,
    private readonly upstreamHost = '127.0.0.1',
  ) {}

  get listening(): boolean {
    return this.server !== null;
  }

  /** Listen on 127.0.0.1 (a free port the first time, the same port afterwards). */
  async start(): Promise<number> {
    if (this.server) return this.port;
    const server = net.createServer((client) => this.onClient(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as net.AddressInfo).port;
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

  private onClient(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.upstreamPort, this.upstreamHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
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
