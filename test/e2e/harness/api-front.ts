// A TLS front in front of kube-apiserver that answers some requests itself (throttling, server
// errors) and can go away for a while, as an overloaded or restarting API server does. Every
// other request is forwarded unchanged, credentials included, so the API server still decides.
import { readFileSync } from 'node:fs';
import { request, Agent } from 'node:https';
import { constants, createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';

/**
 * What the front answers itself: a status and headers with a JSON Status (with `echo`, its
 * message quotes the request body, as a careless admission webhook might) or with `body` as it
 * is (a proxy's HTML page, say); `reset` resets the request's stream (HTTP/2 RST_STREAM, as a
 * proxy dropping it does); `stall` never answers; undefined forwards the request.
 */
export type FrontAnswer =
  | { status: number; headers?: Record<string, string>; echo?: boolean; body?: string }
  | { reset: true }
  | { stall: true }
  | undefined;

export interface ApiFront {
  /** https://127.0.0.1:PORT; its certificate names `localhost`. */
  readonly server: string;
  /** "METHOD PATH" of every request, in arrival order. */
  readonly log: readonly string[];
  /** Drops every connection and refuses new ones for `ms`, then listens again on the same port. */
  goAway(ms: number): void;
  stop(): Promise<void>;
}

const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

export async function startApiFront(opts: {
  upstream: string;
  upstreamCaFile: string;
  certFile: string;
  keyFile: string;
  answer: (method: string, path: string) => FrontAnswer;
}): Promise<ApiFront> {
  const log: string[] = [];
  const upstream = new URL(opts.upstream);
  const agent = new Agent({ ca: readFileSync(opts.upstreamCaFile), keepAlive: true });
  const sockets = new Set<Socket>();

  const forward = (req: Http2ServerRequest, res: Http2ServerResponse): void => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!name.startsWith(':') && !HOP_HEADERS.has(name) && value !== undefined) headers[name] = value;
    }
    const upstreamReq = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (!HOP_HEADERS.has(name) && value !== undefined) out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      },
    );
    upstreamReq.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstreamReq);
  };

  const server = createSecureServer(
    { cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile), allowHTTP1: true },
    (req, res) => {
      log.push(`${req.method} ${req.url}`);
      const own = opts.answer(req.method, req.url);
      if (own === undefined) {
        forward(req, res);
        return;
      }
      if ('stall' in own) return;
      if ('reset' in own) {
        if (req.httpVersion === '2.0') req.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
        else req.socket.destroy();
        return;
      }
      const body: Buffer[] = [];
      req.on('data', (chunk: Buffer) => body.push(chunk));
      req.on('end', () => {
        if (own.body !== undefined) {
          res.writeHead(own.status, { 'content-type': 'text/html', ...own.headers });
          res.end(own.body);
          return;
        }
        const message = `front answered ${own.status}${own.echo ? `: ${Buffer.concat(body).toString('utf8')}` : ''}`;
        res.writeHead(own.status, { 'content-type': 'application/json', ...own.headers });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message }));
      });
    },
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const port = await new Promise<number>((done) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      done(typeof address === 'object' && address ? address.port : 0);
    });
  });

  return {
    server: `https://127.0.0.1:${port}`,
    log,
    goAway(ms: number) {
      server.close();
      for (const socket of sockets) socket.destroy();
      setTimeout(() => server.listen(port, '127.0.0.1'), ms);
    },
    stop: () =>
      new Promise((closed) => {
        for (const socket of sockets) socket.destroy();
        agent.destroy();
        server.close(() => closed());
      }),
  };
}
