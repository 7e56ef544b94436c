/**
 * What the headless Chromium test needs, with nothing but Node: a static server (with or without the headers of
 * cross-origin isolation), Chromium started with a DevTools port, and a minimal DevTools-protocol client over a
 * WebSocket (Node 20 has no WebSocket global; the client speaks RFC 6455 text frames over an `http` upgrade).
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { createServer, request, Server } from 'http';
import { AddressInfo, Socket } from 'net';
import { writeFileSync } from 'fs';
import { join } from 'path';

/** The Chromium binary on PATH (Debian's `chromium`, else `chromium-browser`/`google-chrome`), or null. */
export function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return (
        execFileSync('sh', ['-c', `command -v ${name}`])
          .toString()
          .trim() || null
      );
    } catch {
      // not this one
    }
  }
  return null;
}

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, shared wasm memory). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Serves `files` (path → [content type, body]) under /isolated/ with the isolation headers and under /plain/
 * without them.
 */
export async function serve(
  files: Record<string, [string, string | Buffer]>,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const match = /^\/(isolated|plain)(\/[^?]*)/.exec(req.url ?? '');
    const file = match === null ? undefined : files[match[2]];
    if (match === null || file === undefined) {
      res.writeHead(404).end();
      return;
    }
    const headers: Record<string, string> = { 'Content-Type': file[0], 'Cache-Control': 'no-store' };
    if (match[1] === 'isolated') Object.assign(headers, ISOLATION_HEADERS);
    res.writeHead(200, headers).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Starts headless Chromium with a DevTools port; resolves with the browser's WebSocket address. */
export function launchChromium(binary: string, userDataDir: string): Promise<{ child: ChildProcess; ws: string }> {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--remote-debugging-port=0',
    `--user-data-dir=${userDataDir}`,
    'about:blank',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (found !== null) resolve({ child, ws: found[1] });
    });
    child.on('exit', (code) => reject(new Error(`chromium exited (${code}) before listening:\n${text}`)));
  });
}

interface Reply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
}

/** A DevTools-protocol connection: `send` a method, get its result; events go to `onEvent`. */
export class DevTools {
  private nextId = 1;
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private readonly pending = new Map<number, { resolve(r: Record<string, unknown>): void; reject(e: Error): void }>();
  onEvent: (message: Reply) => void = () => undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('DevTools: connection closed'));
      this.pending.clear();
    });
  }

  static connect(address: string): Promise<DevTools> {
    const url = new URL(address);
    const key = randomBytes(16).toString('base64');
    return new Promise((resolve, reject) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Key': key,
          'Sec-WebSocket-Version': '13',
        },
      });
      req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
        const devTools = new DevTools(socket);
        if (head.length > 0) devTools.receive(head);
        resolve(devTools);
      });
      req.on('response', (res) => reject(new Error(`DevTools: no upgrade (HTTP ${res.statusCode})`)));
      req.on('error', reject);
      req.end();
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.writeFrame(Buffer.from(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  close(): void {
    this.socket.destroy();
  }

  /** A masked text frame, as a client must send. */
  private writeFrame(payload: Buffer): void {
    const n = payload.length;
    const head = n < 126 ? Buffer.from([0x81, 0x80 | n]) : Buffer.alloc(n < 65536 ? 4 : 10);
    if (n >= 126 && n < 65536) {
      head[0] = 0x81;
      head[1] = 0x80 | 126;
      head.writeUInt16BE(n, 2);
    } else if (n >= 65536) {
      head[0] = 0x81;
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(n), 2);
    }
    const mask = randomBytes(4);
    const masked = Buffer.alloc(n);
    for (let i = 0; i < n; i++) masked[i] = payload[i] ^ mask[i & 3];
    this.socket.write(Buffer.concat([head, mask, masked]));
  }

  /** Unmasked server frames: text and continuation frames make messages; others (ping, close) are ignored. */
  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      let length = b[1] & 0x7f;
      let at = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (b.length < at + length) return;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      const payload = b.subarray(at, at + length);
      this.buffer = b.subarray(at + length);
      if (opcode !== 0 && opcode !== 1) continue;
      this.fragments.push(Buffer.from(payload));
      if (!fin) continue;
      const message = JSON.parse(Buffer.concat(this.fragments).toString('utf8')) as Reply;
      this.fragments = [];
      this.dispatch(message);
    }
  }

  private dispatch(message: Reply): void {
    if (message.id === undefined) {
      this.onEvent(message);
      return;
    }
    const waiter = this.pending.get(message.id);
    this.pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(`DevTools: ${message.error.message}`));
    else waiter?.resolve(message.result ?? {});
  }
}

/**
 * Opens `url` in a new tab, awaits the page's `expression` (a promise) and returns its value, with a screenshot.
 */
export async function evaluatePage(
  devTools: DevTools,
  url: string,
  expression: string,
): Promise<{ value: unknown; screenshot: Buffer; console: string[] }> {
  const { targetId } = (await devTools.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
  const { sessionId } = (await devTools.send('Target.attachToTarget', { targetId, flatten: true })) as {
    sessionId: string;
  };
  const console: string[] = [];
  devTools.onEvent = (event) => {
    if (event.sessionId !== sessionId) return;
    if (event.method === 'Runtime.consoleAPICalled') {
      const params = event.params as { type: string; args: { value?: unknown; description?: string }[] };
      console.push(`${params.type}: ${params.args.map((a) => String(a.value ?? a.description)).join(' ')}`);
    } else if (event.method === 'Runtime.exceptionThrown') {
      console.push(`exception: ${JSON.stringify(event.params)}`);
    }
  };
  await devTools.send('Runtime.enable', {}, sessionId);
  await devTools.send('Page.enable', {}, sessionId);
  const loaded = new Promise<void>((resolve) => {
    const previous = devTools.onEvent;
    devTools.onEvent = (event) => {
      previous(event);
      if (event.sessionId === sessionId && event.method === 'Page.loadEventFired') resolve();
    };
  });
  await devTools.send('Page.navigate', { url }, sessionId);
  await loaded;
  const evaluated = (await devTools.send(
    'Runtime.evaluate',
    { expression, awaitPromise: true, returnByValue: true },
    sessionId,
  )) as { result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } };
  if (evaluated.exceptionDetails !== undefined) {
    const details = evaluated.exceptionDetails;
    throw new Error(`page: ${details.exception?.description ?? details.text}\n${console.join('\n')}`);
  }
  const shot = (await devTools.send('Page.captureScreenshot', { format: 'png' }, sessionId)) as { data: string };
  await devTools.send('Target.closeTarget', { targetId });
  return { value: evaluated.result.value, screenshot: Buffer.from(shot.data, 'base64'), console };
}

const PAGE_HTML =
  '<!doctype html><meta charset="utf-8"><title>lazygrad</title><script type="module" src="page.js"></script>';

/**
 * Loads a bundled page script (an ES module) in headless Chromium, once served with the isolation headers and once
 * without, and returns what `expression` (a promise the page sets) resolves to on each; screenshots go to
 * `folder`/isolated.png and plain.png. Also what a pack-and-install test can call with its own bundle.
 */
export async function runPageInChromium(
  pageScript: string | Buffer,
  folder: string,
  expression = 'window.lazygradResults',
): Promise<{ isolated: unknown; plain: unknown }> {
  const binary = findChromium();
  if (binary === null) throw new Error('runPageInChromium: no chromium on PATH (apt-get install chromium)');
  const { server, url } = await serve({
    '/index.html': ['text/html', PAGE_HTML],
    '/page.js': ['text/javascript', pageScript],
  });
  let browser: ChildProcess | undefined;
  let devTools: DevTools | undefined;
  try {
    const launched = await launchChromium(binary, join(folder, 'profile'));
    browser = launched.child;
    devTools = await DevTools.connect(launched.ws);
    const values: Record<string, unknown> = {};
    for (const kind of ['isolated', 'plain']) {
      const page = await evaluatePage(devTools, `${url}/${kind}/index.html`, expression);
      writeFileSync(join(folder, `${kind}.png`), page.screenshot);
      values[kind] = page.value;
    }
    return { isolated: values.isolated, plain: values.plain };
  } finally {
    devTools?.close();
    if (browser !== undefined && browser.exitCode === null) {
      const exited = new Promise((resolve) => browser?.once('exit', resolve));
      browser.kill();
      await exited;
    }
    server.close();
  }
}
