// The browser journey: real Chromium against the whole stack (services, NATS, client, gateway).
import type { Browser, Page } from "playwright-core";
import { startStack } from "../../e2e/stack";
import { launchChromium, open, Pages, reloadUntil, resetScreenshots, shoot, signUp } from "./browser";
import { see } from "./see";

// Short enough to watch an order expire, long enough to pay comfortably in the main journey.
const WINDOW_SECONDS = 20;
const run = Date.now().toString(36);
const jazz = `Jazz night ${run}`;
const expiring = `Late show ${run}`;

let stack: Awaited<ReturnType<typeof startStack>>;
let browser: Browser;
let base: string;
let seller: Page;
let buyer: Page;
const pages = new Pages(() => browser);
const newPage = () => pages.open();

/** The buyer reserves the ticket whose page is open; orders may not have heard of a brand-new ticket yet. */
async function buy(page: Page) {
  await page.waitForURL(/\/tickets\/[^/]+$/);
  await reloadUntil(page, page.url(), async () => {
    await page.getByRole("button", { name: "Buy" }).click();
    await page.waitForURL(/\/orders\/[^/]+$/, { timeout: 3000 });
  });
  await page.waitForSelector("html[data-hydrated]");
}

beforeAll(async () => {
  resetScreenshots();
  [stack, browser] = await Promise.all([startStack({ expirationWindowSeconds: WINDOW_SECONDS, client: true }), launchChromium()]);
  base = stack.baseUrl;
  seller = await newPage();
  buyer = await newPage();
}, 240_000);

afterAll(async () => {
  await pages.closeAll();
  await browser?.close();
  await stack?.stop();
}, 60_000);

afterEach(() => expect(pages.errors).toEqual([])); // uncaught errors in the browser

test("a seller signs up and lists tickets", async () => {
  await open(seller, `${base}/`);
  await see(seller.getByRole("link", { name: "TicketForge" })).visible();
  await shoot(seller, "home-signed-out");

  await signUp(seller, base, `seller-${run}@example.com`, "sign-up-validation");

  await seller.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sell" }).click();
  await seller.waitForURL(/\/tickets\/new$/);
  await seller.getByLabel("Title", { exact: true }).fill(jazz);
  await seller.getByLabel("Price", { exact: true }).fill("20.505");
  await seller.getByRole("button", { name: "List ticket for sale" }).click();
  await see(seller.getByText("Use at most 2 decimals (cents)")).visible();
  await shoot(seller, "sell-validation");

  await seller.getByLabel("Price", { exact: true }).fill("20.5");
  await seller.getByRole("button", { name: "List ticket for sale" }).click();
  await seller.waitForURL(/\/tickets\/[^/]+$/);
  await see(seller.getByRole("heading", { name: jazz })).visible();
  await see(seller.getByTestId("ticket-price")).text("$20.50");
  await see(seller.getByRole("button", { name: "Buy" })).disabled();
  await see(seller.getByTestId("buy-reason")).text("This is your own ticket.");
  await shoot(seller, "ticket-own");

  // The second ticket is edited, then left unpaid by the buyer to watch it expire.
  await open(seller, `${base}/tickets/new`);
  await seller.getByLabel("Title", { exact: true }).fill(`${expiring} (draft)`);
  await seller.getByLabel("Price", { exact: true }).fill("20");
  await seller.getByRole("button", { name: "List ticket for sale" }).click();
  await seller.getByRole("link", { name: "Edit ticket" }).click();
  await seller.waitForURL(/\/edit$/);
  await see(seller.getByLabel("Price", { exact: true })).value("20.00");
  await shoot(seller, "edit-ticket");
  await seller.getByLabel("Title", { exact: true }).fill(expiring);
  await seller.getByLabel("Price", { exact: true }).fill("15.50");
  await seller.getByRole("button", { name: "Save changes" }).click();
  await see(seller.getByRole("heading", { name: expiring })).visible();

  await open(seller, `${base}/tickets/mine`);
  for (const title of [jazz, expiring]) {
    await see(seller.getByTestId("my-ticket").filter({ hasText: title }).getByTestId("ticket-status")).text("Available");
  }
  await shoot(seller, "my-tickets");
}, 60_000);

test("a buyer finds the ticket, pays with a declined card, then a good one, and sees it complete", async () => {
  await signUp(buyer, base, `buyer-${run}@example.com`);
  await open(buyer, `${base}/`);
  await buyer.getByLabel("Search tickets by title").fill(`jazz NIGHT ${run}`);
  await buyer.getByRole("button", { name: "Search" }).click();
  const card = buyer.getByRole("link", { name: new RegExp(jazz) });
  await see(card).contains("$20.50");
  await see(buyer.getByRole("list", { name: "Tickets for sale" }).getByRole("listitem")).count(1);
  await shoot(buyer, "search-results");
  await card.click();
  await see(buyer.getByRole("button", { name: "Buy" })).enabled();
  await shoot(buyer, "ticket");

  await buy(buyer);
  await see(buyer.getByTestId("order-status")).text("Awaiting payment");
  const countdown = buyer.getByTestId("countdown");
  const first = await countdown.textContent();
  expect(first).toMatch(/^0:\d\d$/);
  await see(countdown, 3000).notText(first!);
  // Set on the live page: still there at the end means the status changed without a reload.
  await buyer.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

  await buyer.getByLabel(/0002/).check();
  await buyer.getByRole("button", { name: "Pay $20.50" }).click();
  await see(buyer.getByRole("form", { name: "Payment" }).getByRole("alert")).contains(/declined/i);
  await shoot(buyer, "order-card-declined");
  await buyer.getByLabel(/4242/).check();
  await buyer.getByRole("button", { name: "Pay $20.50" }).click();
  await see(buyer.getByTestId("order-status"), 15_000).text("Complete");
  await see(buyer.getByRole("heading", { name: /the ticket is yours/ })).visible();
  expect(await buyer.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  await shoot(buyer, "order-complete");

  await open(buyer, `${base}/orders`);
  await see(buyer.getByTestId("my-order").filter({ hasText: jazz }).getByTestId("order-status")).text("Complete");
  await shoot(buyer, "my-orders");
}, 60_000);

test("the seller sees the ticket as sold", async () => {
  const row = seller.getByTestId("my-ticket").filter({ hasText: jazz });
  await reloadUntil(seller, `${base}/tickets/mine`, () => see(row.getByTestId("ticket-status"), 500).text("Sold"));
  await see(row).contains("Sold — nothing to edit");
  await shoot(seller, "my-tickets-sold");
}, 30_000);

test("an unpaid order expires by itself and the ticket is for sale again", async () => {
  await open(buyer, `${base}/?q=${encodeURIComponent(expiring)}`);
  await buyer.getByRole("link", { name: new RegExp(expiring) }).click();
  await buy(buyer);
  await see(buyer.getByTestId("order-status")).text("Awaiting payment");
  await shoot(buyer, "order-awaiting-payment");
  await buyer.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

  await see(buyer.getByTestId("order-status"), (WINDOW_SECONDS + 20) * 1000).text("Expired");
  await see(buyer.getByRole("heading", { name: "Reservation expired" })).visible();
  expect(await buyer.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  await shoot(buyer, "order-expired");

  const listed = buyer.getByRole("link", { name: new RegExp(expiring) });
  await reloadUntil(buyer, `${base}/?q=${encodeURIComponent(expiring)}`, () => see(listed, 500).visible());
  await listed.click();
  await see(buyer.getByRole("button", { name: "Buy" })).enabled();
}, 90_000);

test("signed-out pages, sign-out and the 404 page read well", async () => {
  const visitor = await newPage();
  await open(visitor, `${base}/auth/signin`);
  await visitor.keyboard.press("Tab");
  await see(visitor.getByRole("link", { name: "Skip to content" })).focused();
  await shoot(visitor, "sign-in");

  const missing = await visitor.goto(`${base}/tickets/no-such-ticket`);
  expect(missing?.status()).toBe(404);
  await see(visitor.getByRole("heading", { name: "Page not found" })).visible();
  await shoot(visitor, "not-found");

  await buyer.getByRole("button", { name: "Sign out" }).click();
  await see(buyer.getByRole("link", { name: "Sign in" })).visible();
  await open(buyer, `${base}/orders`);
  expect(buyer.url()).toMatch(/\/auth\/signin\?next=%2Forders$/);
}, 30_000);
