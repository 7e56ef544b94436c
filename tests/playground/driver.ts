/**
 * A page of the playground test, driven over the DevTools protocol (tests/browser/harness.ts's client): evaluate
 * script in it, press real keys (Input.dispatchKeyEvent: focus moves with Tab as it does for a user, which events
 * dispatched by script cannot do), take screenshots at a laptop's viewport, and collect its console.
 */
import { DevTools } from '../browser/harness';

/** Key name → [code, Windows virtual key code, text it types]. */
const KEYS: Record<string, [string, number, string?]> = {
  Tab: ['Tab', 9],
  Enter: ['Enter', 13, '\r'],
  ' ': ['Space', 32, ' '],
  ArrowRight: ['ArrowRight', 39],
  ArrowLeft: ['ArrowLeft', 37],
  a: ['KeyA', 65, 'a'],
};

export const SHIFT = 8;
export const CONTROL = 2;

export class Page {
  readonly console: string[] = [];

  private constructor(
    private readonly devTools: DevTools,
    private readonly targetId: string,
    private readonly sessionId: string,
  ) {}

  /** Opens `url` in a new tab of `width` × `height` CSS pixels and waits for its load event. */
  static async open(devTools: DevTools, url: string, width = 1366, height = 768): Promise<Page> {
    const { targetId } = (await devTools.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await devTools.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    const page = new Page(devTools, targetId, sessionId);
    let loaded: () => void = () => undefined;
    const load = new Promise<void>((resolve) => (loaded = resolve));
    devTools.onEvent = (event) => {
      if (event.sessionId !== sessionId) return;
      if (event.method === 'Runtime.consoleAPICalled') {
        const params = event.params as { type: string; args: { value?: unknown; description?: string }[] };
        page.console.push(`${params.type}: ${params.args.map((a) => String(a.value ?? a.description)).join(' ')}`);
      } else if (event.method === 'Runtime.exceptionThrown') {
        page.console.push(`exception: ${JSON.stringify(event.params)}`);
      } else if (event.method === 'Log.entryAdded') {
        const entry = (event.params as { entry: { level: string; text: string; url?: string } }).entry;
        page.console.push(`${entry.level}: ${entry.text} ${entry.url ?? ''}`);
      } else if (event.method === 'Page.loadEventFired') loaded();
    };
    await page.send('Runtime.enable');
    await page.send('Log.enable');
    await page.send('Page.enable');
    await page.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    await page.send('Page.navigate', { url });
    await load;
    return page;
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.devTools.send(method, params, this.sessionId);
  }

  /** The value of `expression` (awaited if a promise), as JSON. */
  async evaluate<T>(expression: string): Promise<T> {
    const evaluated = (await this.send('Runtime.evaluate', {
      expression,
      awaitPromise: true,
      returnByValue: true,
    })) as { result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } };
    if (evaluated.exceptionDetails !== undefined) {
      const details = evaluated.exceptionDetails;
      throw new Error(`page: ${details.exception?.description ?? details.text}\n${this.console.join('\n')}`);
    }
    return evaluated.result.value as T;
  }

  /** Presses and releases a key, as a keyboard does (modifiers: SHIFT, CONTROL; commands: editing commands). */
  async key(key: string, modifiers = 0, commands: string[] = []): Promise<void> {
    const [code, keyCode, text] = KEYS[key] ?? [`Key${key.toUpperCase()}`, key.toUpperCase().charCodeAt(0), key];
    const common = { key, code, windowsVirtualKeyCode: keyCode, modifiers };
    const typed = modifiers & CONTROL ? undefined : text;
    await this.send('Input.dispatchKeyEvent', {
      type: typed === undefined ? 'rawKeyDown' : 'keyDown',
      ...common,
      ...(typed === undefined ? {} : { text: typed }),
      commands,
    });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', ...common });
  }

  /** Types `text` key by key into the focused element. */
  async type(text: string): Promise<void> {
    for (const ch of text) {
      await this.send('Input.dispatchKeyEvent', { type: 'keyDown', key: ch, text: ch });
      await this.send('Input.dispatchKeyEvent', { type: 'keyUp', key: ch });
    }
  }

  /** Selects the focused field's text (Ctrl+A) and types `text` over it. */
  async replaceText(text: string): Promise<void> {
    await this.key('a', CONTROL, ['selectAll']);
    await this.type(text);
  }

  /** Presses Tab (Shift+Tab backwards) until `predicate` (script, true for the focused element) holds; at most 40. */
  async tabTo(predicate: string, backwards = false): Promise<number> {
    for (let presses = 1; presses <= 40; presses++) {
      await this.key('Tab', backwards ? SHIFT : 0);
      if (await this.evaluate<boolean>(`((element) => ${predicate})(document.activeElement)`)) return presses;
    }
    throw new Error(`Tab never reached an element with ${predicate}`);
  }

  async screenshot(): Promise<Buffer> {
    const shot = (await this.send('Page.captureScreenshot', { format: 'png' })) as { data: string };
    return Buffer.from(shot.data, 'base64');
  }

  async close(): Promise<void> {
    await this.devTools.send('Target.closeTarget', { targetId: this.targetId });
  }
}
