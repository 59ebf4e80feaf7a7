// The golden summaries as GitHub shows them: GitHub-flavoured Markdown → HTML (marked) with GitHub-like styles,
// screenshotted in headless Chromium (Debian's `chromium` package) over the DevTools protocol. Without
// /usr/bin/chromium the test is skipped with a note. UPDATE_GOLDEN=1 also refreshes docs/summary-*.png (the
// README's pictures); otherwise the pictures go to a temporary folder and are only checked.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { marked } from 'marked';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { integrationOnly } from './support/integration.js';

integrationOnly('headless Chromium');

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** The width of a job summary on a wide screen. */
const WIDTH = 1012;

const available = existsSync(CHROMIUM);
if (!available) {
  console.warn(
    `screenshot.integration.test.ts: skipped — ${CHROMIUM} is missing (apt-get install -y chromium fonts-noto-color-emoji).`,
  );
}
const maybe = available ? describe : describe.skip;

/** Styles close to GitHub's markdown-body in a job summary (light theme). */
const CSS = `
body { margin: 0; background: #ffffff; }
.frame { margin: 16px; border: 1px solid #d1d9e0; border-radius: 6px; }
.frame > .title { padding: 8px 16px; border-bottom: 1px solid #d1d9e0; background: #f6f8fa; font: 600 14px -apple-system, "Segoe UI", "Noto Sans", "Liberation Sans", Helvetica, Arial, sans-serif; color: #1f2328; }
.markdown-body { padding: 16px 24px; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", "Liberation Sans", Helvetica, Arial, sans-serif, "Noto Color Emoji"; color: #1f2328; word-wrap: break-word; }
.markdown-body h3 { font-size: 1.25em; font-weight: 600; margin: 8px 0 16px; }
.markdown-body h4 { font-size: 1em; font-weight: 600; margin: 24px 0 16px; }
.markdown-body p, .markdown-body blockquote, .markdown-body table, .markdown-body pre, .markdown-body details { margin: 0 0 16px; }
.markdown-body a { color: #0969da; text-decoration: none; }
.markdown-body blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
.markdown-body code { font: 85% ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; padding: .2em .4em; background: rgba(129, 139, 152, .12); border-radius: 6px; }
.markdown-body pre { padding: 16px; overflow: auto; font-size: 85%; line-height: 1.45; background: #f6f8fa; border-radius: 6px; }
.markdown-body pre code { padding: 0; background: transparent; font-size: 100%; }
.markdown-body table { border-spacing: 0; border-collapse: collapse; display: block; width: max-content; max-width: 100%; overflow: auto; }
.markdown-body th { font-weight: 600; }
.markdown-body th, .markdown-body td { padding: 6px 13px; border: 1px solid #d1d9e0; }
.markdown-body tr { background: #ffffff; border-top: 1px solid #d1d9e0b3; }
.markdown-body tr:nth-child(2n) { background: #f6f8fa; }
.markdown-body details summary { cursor: pointer; }
`;

function page(markdown: string, title: string): string {
  const body = marked.parse(markdown, { gfm: true, async: false }) as string;
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>${CSS}</style></head>` +
    `<body><div class="frame"><div class="title">${title}</div><div class="markdown-body">${body}</div></div></body></html>`
  );
}

/** A minimal DevTools-protocol client over the browser's WebSocket (flattened sessions). */
class Cdp {
  private id = 0;
  private readonly pending = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  private readonly waiters: { method: string; resolve: () => void }[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (e) => {
      const msg = JSON.parse(String(e.data)) as {
        id?: number;
        result?: Record<string, unknown>;
        error?: { message: string };
        method?: string;
      };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result ?? {});
      } else if (msg.method) {
        for (const [i, w] of this.waiters.entries()) {
          if (w.method === msg.method) {
            this.waiters.splice(i, 1);
            w.resolve();
            break;
          }
        }
      }
    });
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    return new Cdp(ws);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = ++this.id;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  next(method: string): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ method, resolve }));
  }

  close(): void {
    this.ws.close();
  }
}

let chrome: ChildProcess | undefined;
let cdp: Cdp | undefined;
let profile: string;
let outDir: string;

async function startChromium(): Promise<void> {
  profile = mkdtempSync(join(tmpdir(), 'parallel-dbt-chromium-'));
  chrome = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      '--force-color-profile=srgb',
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start: ${err.slice(-2000)}`)), 30_000);
    chrome!.stderr!.on('data', (b: Buffer) => {
      err += String(b);
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    chrome!.on('exit', (code) => reject(new Error(`chromium exited with ${code}: ${err.slice(-2000)}`)));
  });
  cdp = await Cdp.connect(url);
}

/** Renders `html` at WIDTH and returns a PNG of the whole page. */
async function screenshot(html: string, name: string): Promise<Buffer> {
  const file = join(outDir, `${name}.html`);
  writeFileSync(file, html);
  const { targetId } = await cdp!.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = (await cdp!.send('Target.attachToTarget', { targetId, flatten: true })) as {
    sessionId: string;
  };
  try {
    await cdp!.send('Page.enable', {}, sessionId);
    await cdp!.send(
      'Emulation.setDeviceMetricsOverride',
      { width: WIDTH, height: 800, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    const loaded = cdp!.next('Page.loadEventFired');
    await cdp!.send('Page.navigate', { url: pathToFileURL(file).href }, sessionId);
    await loaded;
    const { result } = (await cdp!.send(
      'Runtime.evaluate',
      {
        expression: 'document.fonts.ready.then(() => Math.ceil(document.documentElement.scrollHeight))',
        awaitPromise: true,
        returnByValue: true,
      },
      sessionId,
    )) as { result: { value: number } };
    await cdp!.send(
      'Emulation.setDeviceMetricsOverride',
      { width: WIDTH, height: result.value, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    const shot = (await cdp!.send(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: true },
      sessionId,
    )) as { data: string };
    return Buffer.from(shot.data, 'base64');
  } finally {
    await cdp!.send('Target.closeTarget', { targetId });
  }
}

/** Width, height and the decoded RGB(A) pixels of an 8-bit PNG. */
function decodePng(png: Buffer): { width: number; height: number; pixels: Buffer; channels: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('ascii', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8); // bit depth
      channels = ({ 2: 3, 6: 4 } as Record<number, number>)[data[9]];
      expect(channels).toBeDefined();
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c;
      const pr =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      const add = [0, a, b, (a + b) >> 1, pr][filter];
      pixels[y * stride + x] = (line[x] + add) & 0xff;
    }
  }
  return { width, height, pixels, channels };
}

maybe('the summary as GitHub shows it (headless Chromium)', () => {
  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'parallel-dbt-shots-'));
    await startChromium();
  }, 60_000);
  afterAll(async () => {
    try {
      await cdp?.send('Browser.close');
    } catch {
      // already gone
    }
    cdp?.close();
    if (chrome && chrome.exitCode === null) chrome.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  });

  test.each([
    ['green', 'summary-green.md', 'parallel-dbt · green run'],
    ['red', 'summary-red.md', 'parallel-dbt · red run'],
    ['5000', 'summary-5000.md', 'parallel-dbt · 5,000-node run'],
    ['compare', 'summary-compare.md', 'parallel-dbt · red run compared with the base'],
  ])(
    '%s run',
    async (name, golden, title) => {
      const md = readFileSync(join(ROOT, 'test', '__outputs__', golden), 'utf8');
      const png = await screenshot(page(md, title), name);
      const file = join(outDir, `summary-${name}.png`);
      writeFileSync(file, png);
      const { width, height, pixels, channels } = decodePng(png);
      expect(width).toBe(WIDTH);
      expect(height).toBeGreaterThan(400);
      expect(height).toBeLessThan(20_000);
      // Non-trivial: a fair share of the page is not white, and there are many colours (text, tables, emoji).
      let inked = 0;
      const colours = new Set<number>();
      for (let i = 0; i < pixels.length; i += channels) {
        const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
        if (r < 250 || g < 250 || b < 250) inked++;
        colours.add((r << 16) | (g << 8) | b);
      }
      expect(inked / (width * height)).toBeGreaterThan(0.02);
      expect(colours.size).toBeGreaterThan(100);
      // Emoji are drawn in colour (the status line's ✅/❌): some strongly saturated pixels exist.
      let saturated = 0;
      for (let i = 0; i < pixels.length; i += channels)
        if (Math.max(pixels[i], pixels[i + 1], pixels[i + 2]) - Math.min(pixels[i], pixels[i + 1], pixels[i + 2]) > 120)
          saturated++;
      expect(saturated).toBeGreaterThan(50);
      if (UPDATE) copyFileSync(file, join(ROOT, 'docs', `summary-${name}.png`));
    },
    60_000,
  );
});
