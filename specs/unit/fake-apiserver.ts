// Test helper: a local HTTP + websocket server that speaks just enough of the
// Kubernetes API (JSON errors, the exec channel protocol) for unit tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { KubeConfig } from '@kubernetes/client-node';

export interface FakeApiServer {
  url: string;
  kc: KubeConfig;
  close(): Promise<void>;
}

export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
export type ExecHandler = (ws: WebSocket, url: URL) => void;

export function kubeconfigYaml(server: string, context = 'kind-test'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${context}`,
    'clusters:',
    `- name: ${context}`,
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${context}`,
    '  user:',
    '    token: test-token',
    'contexts:',
    `- name: ${context}`,
    '  context:',
    `    cluster: ${context}`,
    `    user: ${context}`,
    '',
  ].join('\n');
}

export async function startFakeApiServer(onHttp: HttpHandler, onExec?: ExecHandler): Promise<FakeApiServer> {
  const server = http.createServer(onHttp);
  const wss = new WebSocketServer({
    server,
    handleProtocols: (protocols) => (protocols.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false),
  });
  wss.on('connection', (ws, req) => onExec?.(ws, new URL(req.url ?? '/', 'http://x')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(url));
  return {
    url,
    kc,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sends one exec frame: channel byte + payload. */
export function frame(ws: WebSocket, channel: number, payload: string | object): void {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(body)]));
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'knc-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function writeTemp(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text, 'utf8');
  return file;
}
