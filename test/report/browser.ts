/**
 * Headless Chromium for the report tests: Debian's /usr/bin/chromium driven by playwright-core
 * (the browser cannot be downloaded here). Every page is watched for console errors, uncaught
 * exceptions and any request other than local files, which are aborted and recorded.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, type Page, chromium } from "playwright-core";
import { ROOT } from "../helpers.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS = join(ROOT, "reports", "screenshots");

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and CSP violations, as text. */
  errors: string[];
  /** Every request that was not for a local file: there must be none. */
  network: string[];
}

/** Opens a local HTML file at 1280 px, watching everything it does. */
export async function openFile(browser: Browser, file: string, width = 1280): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const network: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning")
      errors.push(`${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("request", (request) => {
    if (!request.url().startsWith("file://")) network.push(request.url());
  });
  await context.route(
    (url) => url.protocol !== "file:",
    (route) => route.abort("blockedbyclient"),
  );
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  return { page, errors, network };
}

/** Saves a full-page screenshot under reports/screenshots/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
