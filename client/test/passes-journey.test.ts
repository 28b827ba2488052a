// The journey after the purchase, in real Chromium against the whole stack: buy, see the pass,
// transfer it, scan it at the door with the camera, scan again and be refused, offline too.
import type { Browser, Page } from "playwright-core";
import { startStack } from "../../e2e/stack";
import { launchChromium, open, Pages, reloadUntil, shoot, signUp } from "./browser";
import { fakeCameraFile, fakeCameraFlags, showPicture } from "./fake-camera";
import { see } from "./see";

const run = Date.now().toString(36);
const title = `Opera ${run}`;

let stack: Awaited<ReturnType<typeof startStack>>;
let browser: Browser;
let base: string;
/** What the door's camera sees (Chromium's fake capture device plays this file). */
const camera = fakeCameraFile();
const pages = new Pages(() => browser);
const newPage = () => pages.open();

/** The code the pass's QR code holds right now (the QR's own data). */
async function codeOn(page: Page): Promise<string> {
  const qr = page.getByTestId("pass").filter({ hasText: title }).getByTestId("pass-qr");
  await see(qr).visible();
  return (await qr.getAttribute("data-code"))!;
}

/**
 * The code with one character of its signature changed. Not its last characters: the last one
 * carries four bits of padding, so a change there may decode to the very same bytes.
 */
const forged = (code: string) => {
  const at = code.length - 10;
  return `${code.slice(0, at)}${code[at] === "A" ? "B" : "A"}${code.slice(at + 1)}`;
};

async function scan(door: Page, code: string) {
  await door.getByLabel("Code", { exact: true }).fill(code);
  await door.getByRole("button", { name: "Check in" }).click();
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack({ client: true }), launchChromium(fakeCameraFlags(camera))]);
  base = stack.baseUrl;
}, 240_000);

afterAll(async () => {
  await pages.closeAll();
  await browser?.close();
  await stack?.stop();
}, 60_000);

afterEach(() => expect(pages.errors).toEqual([]));

test("a buyer gets a pass, gives it to a friend, and the door admits the friend's once and refuses the rest", async () => {
  const [seller, buyer, friend] = [await newPage(), await newPage(), await newPage()];
  await signUp(seller, base, `door-seller-${run}@example.com`);
  await signUp(buyer, base, `pass-buyer-${run}@example.com`);
  await signUp(friend, base, `pass-friend-${run}@example.com`);

  await open(seller, `${base}/tickets/new`);
  await seller.getByLabel("Title", { exact: true }).fill(title);
  await seller.getByLabel("Price", { exact: true }).fill("30");
  await seller.getByRole("button", { name: "List ticket for sale" }).click();
  await see(seller.getByRole("heading", { name: title })).visible();
  const ticketUrl = seller.url();

  await reloadUntil(buyer, ticketUrl, async () => {
    await buyer.getByRole("button", { name: "Buy" }).click();
    await buyer.waitForURL(/\/orders\/[^/]+$/, { timeout: 3000 });
  });
  await buyer.waitForSelector("html[data-hydrated]");
  await buyer.getByLabel(/4242/).check();
  await buyer.getByRole("button", { name: "Pay $30.00" }).click();
  await see(buyer.getByTestId("order-status"), 15_000).text("Complete");

  const card = buyer.getByTestId("pass").filter({ hasText: title });
  await reloadUntil(buyer, `${base}/passes`, () => see(card.getByTestId("pass-status"), 500).text("Valid"));
  const oldCode = await codeOn(buyer);
  expect(oldCode).toMatch(/^[A-Za-z0-9_-]{114}$/);
  await shoot(buyer, "my-passes");

  await card.getByText("Give this pass to someone").click();
  await card.getByLabel("Their email").fill(`pass-friend-${run}@example.com`);
  await card.getByRole("button", { name: "Transfer" }).click();
  await see(card.getByRole("status")).contains("no longer works at the door");
  await see(card.getByTestId("pass-status")).text("Transferred");

  await open(seller, `${base}/door`);
  await scan(seller, oldCode);
  await see(seller.getByTestId("door-outcome")).contains("Revoked");
  await shoot(seller, "door-revoked");

  await open(friend, `${base}/passes`);
  const friendsCode = await codeOn(friend);
  // the friend holds the phone up to the door's camera: the QR code on their screen, decoded in the page
  const friendsQr = friend.getByTestId("pass").filter({ hasText: title }).getByTestId("pass-qr");
  showPicture(camera, await friendsQr.screenshot());
  await seller.getByRole("button", { name: "Use camera" }).click();
  await see(seller.getByTestId("door-outcome")).text(/^✓\s*Admitted/);
  await see(seller.getByTestId("door-outcome")).contains(title);
  // the code stays in view: the door has read it once and does not turn it away a moment later
  await seller.waitForTimeout(1_500);
  await see(seller.getByTestId("door-outcome")).text(/^✓\s*Admitted/);
  await shoot(seller, "door-admitted");
  await seller.getByRole("button", { name: "Stop camera" }).click();
  await scan(seller, friendsCode);
  await see(seller.getByTestId("door-outcome")).contains("Already admitted");

  // offline, the door checks with the public key and what it knows: still once only
  await seller.context().setOffline(true);
  await scan(seller, friendsCode);
  await see(seller.getByTestId("door-outcome")).contains("This pass was admitted already");
  await scan(seller, forged(friendsCode));
  await see(seller.getByTestId("door-outcome")).contains("This code is not genuine");
  await see(seller.getByTestId("door-queue")).text("0 offline check-ins to sync");
  await seller.context().setOffline(false);
}, 120_000);
