// Chromium helpers for the browser journey: launch, screenshots at two widths, sign-up.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import axe from "axe-core";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { longRun } from "../../e2e/support/size";
import { see } from "./see";

export const SCREENSHOT_DIR = path.resolve(__dirname, "../../artifacts/screenshots");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };

const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/**
 * CHROMIUM_PATH, else the system's Chromium, else the build that the npm package
 * @sparticuz/chromium ships (unpacked to /tmp on first use, ~4 s), so that `npm test` needs no
 * browser installed on the machine.
 */
export async function launchChromium(extraFlags: string[] = []): Promise<Browser> {
  const given = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
  if (given) {
    if (!fs.existsSync(given)) throw new Error(`Chromium not found at CHROMIUM_PATH=${given}`);
    return chromium.launch({ executablePath: given, args: [...flags, ...extraFlags] });
  }
  // an ES module that Jest's CommonJS runtime cannot load: ask a plain Node process for it
  const script =
    "import('@sparticuz/chromium').then(async ({ default: c }) => console.log(JSON.stringify({ path: await c.executablePath() })))";
  const r = spawnSync(process.execPath, ["-e", script], { cwd: __dirname, encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(
      `No Chromium: none installed (apt-get install chromium, or set CHROMIUM_PATH) and @sparticuz/chromium failed: ${r.stderr}`,
    );
  const packaged = JSON.parse(r.stdout.trim().split("\n").pop()!) as { path: string };
  // not the package's own flags: they are for a serverless sandbox (--single-process breaks a second
  // browser context's cookies; --disable-web-security would hide what the pages' headers enforce)
  return chromium.launch({
    executablePath: packaged.path,
    args: [...flags, "--no-zygote", "--use-gl=angle", "--use-angle=swiftshader", ...extraFlags],
  });
}

export function resetScreenshots() {
  fs.rmSync(SCREENSHOT_DIR, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
}

let counter = 0;

/** The rules the pages keep: WCAG 2.1, levels A and AA, as axe-core checks them. */
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/**
 * Runs axe-core in the page as it is now (injected through the DevTools protocol, which the
 * pages' Content-Security-Policy does not govern); fails naming each rule broken and where.
 */
export async function expectAccessible(page: Page, name: string) {
  // A page whose title depends on its data (generateMetadata) has it streamed after the content:
  // on a client-side navigation the heading can be on screen a moment before the <title> is.
  await page.waitForFunction(() => document.title !== "", undefined, { timeout: 5000 });
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axe.source);
  const violations = await page.evaluate(async (tags) => {
    const result = await (window as unknown as { axe: typeof axe }).axe.run(document, { runOnly: { type: "tag", values: tags } });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }, WCAG);
  if (violations.length > 0) throw new Error(`${name}: axe found ${violations.length} accessibility problem(s):\n${violations.join("\n")}`);
}

/**
 * Every page state the journeys photograph is also checked with axe (expectAccessible).
 * Full-page screenshots at desktop and phone width; fails if the phone layout scrolls sideways.
 * `npm test` checks the phone layout without keeping its picture (a full-page screenshot is the
 * journey's slowest step); `npm run test:long` and the e2e workflow keep both.
 */
export async function shoot(page: Page, name: string) {
  const file = `${String(++counter).padStart(2, "0")}-${name}`;
  await page.setViewportSize(DESKTOP);
  await expectAccessible(page, name);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${file}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  if (longRun) await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${file}-phone.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.setViewportSize(DESKTOP);
  if (overflow > 0) throw new Error(`${name}: the page is ${overflow}px wider than a 375px phone`);
}

/** Navigates and waits until React has hydrated the page (see HydrationFlag). */
export async function open(page: Page, url: string) {
  await page.goto(url);
  await page.waitForSelector("html[data-hydrated]");
}

export async function signUp(page: Page, baseUrl: string, email: string, screenshot?: string) {
  await open(page, `${baseUrl}/auth/signup`);
  const form = page.getByRole("form", { name: "Sign up" });
  if (screenshot) {
    // Submitting empty shows the form's own validation next to each field.
    await form.getByRole("button", { name: "Create account" }).click();
    await see(form.getByText("Enter your email address")).visible();
    await shoot(page, screenshot);
  }
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill("correct-horse-battery");
  await form.getByRole("button", { name: "Create account" }).click();
  await see(page.getByTestId("current-user")).contains(email);
}

/** The pages of one test file, each in a context of its own (its own cookies), their uncaught errors collected. */
export class Pages {
  readonly errors: string[] = [];
  private readonly contexts: BrowserContext[] = [];
  constructor(private readonly browser: () => Browser) {}

  async open(): Promise<Page> {
    const context = await this.browser().newContext({ viewport: DESKTOP });
    this.contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (err) => this.errors.push(err.message));
    return page;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.contexts.map((c) => c.close().catch(() => {})));
  }
}

/** Reloads `url` until `check` passes: the services learn of each change through events. */
export async function reloadUntil(page: Page, url: string, check: () => Promise<void>, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    await open(page, url);
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await page.waitForTimeout(300);
    }
  }
}
