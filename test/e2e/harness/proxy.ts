// A real HTTP proxy on loopback for the egress tests: absolute-form requests (plain http, as the
// aws CLI sends them to an http endpoint) are forwarded, CONNECT (https) is tunnelled. Every
// target is logged. `hosts` maps names to addresses, standing in for the proxy's DNS.
import { createServer, request, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

export interface Proxy {
  readonly url: string;
  /** "METHOD host:port" per request or tunnel, in arrival order. */
  readonly log: readonly string[];
  stop(): Promise<void>;
}

export function startProxy(hosts: Readonly<Record<string, string>> = {}): Promise<Proxy> {
  const log: string[] = [];
  const resolve = (host: string): string => hosts[host] ?? host;
  const server: Server = createServer((req, res) => {
    const target = new URL(req.url ?? '/');
    log.push(`${req.method ?? 'GET'} ${target.host}`);
    const upstream = request(
      {
        host: resolve(target.hostname),
        port: target.port || 80,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req, client, head) => {
    const [host = '', port = '443'] = (req.url ?? '').split(':');
    log.push(`CONNECT ${req.url ?? ''}`);
    const upstream = connect(Number(port), resolve(host), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    // A client that resets its tunnel (the aws CLI at exit) is not an error of the test.
    client.on('error', () => upstream.destroy());
  });
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      done({
        url: `http://127.0.0.1:${port}`,
        log,
        stop: () => new Promise((closed) => server.close(() => closed())),
      });
    });
  });
}

export interface Forwarder {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: () => number;
  stop(): Promise<void>;
}

/**
 * Listens on `host` (a free port) and pipes every connection to 127.0.0.1:`targetPort`; with
 * `tls`, it terminates TLS with that cert first (an https endpoint in front of plain-http moto).
 */
export function startForwarder(
  host: string,
  targetPort: number,
  tls?: { certFile: string; keyFile: string },
): Promise<Forwarder> {
  let connections = 0;
  const pipe = (socket: Socket): void => {
    connections += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.pipe(upstream).pipe(socket);
  };
  const server: NetServer = tls
    ? createTlsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, pipe)
    : createNetServer(pipe);
  return new Promise((done) => {
    server.listen(0, host, () => {
      const address = server.address();
      done({
        port: typeof address === 'object' && address ? address.port : 0,
        connections: () => connections,
        stop: () => new Promise((closed) => server.close(() => closed())),
      });
    });
  });
}
