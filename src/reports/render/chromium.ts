import { existsSync } from 'node:fs';
import { XiaoerError } from '../../core/errors.ts';

/** Debian's Chromium (package `chromium`): xiaoer never downloads a browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/** Debian's Chromium as root in a closed network (see the machine notes): no sandbox, no calls home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Renders at once; more PDF requests than this are refused (503) rather than queued. */
const MAX_RENDERS = 2;
const RENDER_TIMEOUT_MS = 60_000;
let rendering = 0;

const unavailable = (why: string, cause?: unknown) =>
  new XiaoerError(
    'pdf_unavailable',
    `${why}; ask for format=html and print it from a browser (A4), or install Debian's chromium`,
    { httpStatus: 503, cause },
  );

/**
 * The print-ready HTML as an A4 PDF, through Debian's Chromium and playwright-core. Without either
 * it fails with `pdf_unavailable` (503), which names format=html as the way out.
 */
export async function htmlToPdf(
  html: string,
  opts: { executablePath?: string; footer?: string } = {},
): Promise<Buffer> {
  const executablePath = opts.executablePath ?? CHROMIUM;
  if (!existsSync(executablePath))
    throw unavailable(`PDF needs Chromium at ${executablePath}, which is missing`);
  if (rendering >= MAX_RENDERS)
    throw new XiaoerError('pdf_busy', `${MAX_RENDERS} reports are being rendered; try again shortly`, {
      httpStatus: 503,
    });
  rendering++;
  try {
    let chromium: typeof import('playwright-core').chromium;
    try {
      ({ chromium } = await import('playwright-core'));
    } catch (err) {
      throw unavailable('PDF needs the playwright-core package, which is not installed', err);
    }
    const browser = await chromium
      .launch({ executablePath, args: CHROMIUM_ARGS, timeout: RENDER_TIMEOUT_MS })
      .catch((err: unknown) => {
        throw unavailable(`Chromium at ${executablePath} did not start`, err);
      });
    try {
      // No network at all: the report is self-contained, and nothing in it may fetch.
      const context = await browser.newContext({ offline: true, javaScriptEnabled: false });
      const page = await context.newPage();
      await page.setContent(html, { waitUntil: 'load', timeout: RENDER_TIMEOUT_MS });
      return await page.pdf({
        format: 'A4',
        preferCSSPageSize: true,
        printBackground: true,
        displayHeaderFooter: true,
        headerTemplate: '<span></span>',
        footerTemplate: footerTemplate(opts.footer ?? ''),
      });
    } finally {
      await browser.close();
    }
  } finally {
    rendering--;
  }
}

/** Chromium fills the `pageNumber` and `totalPages` classes; `text` must already be escaped. */
function footerTemplate(text: string): string {
  return `<div style="width:100%;font-size:8px;color:#666;padding:0 12mm;display:flex;justify-content:space-between;font-family:'Noto Sans CJK SC',sans-serif"><span>${text}</span><span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>`;
}
