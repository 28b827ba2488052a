import { queueMail } from "./db/mails";
import type { PassesWork } from "./db/tables";

export const appLink = "{app}";

/**
 * The mails of a pass: a receipt for the buyer, a notice for a transfer's recipient. They name the
 * ticket and the order and link to My tickets; they never carry a code that works at the door
 * (the code rotates every 30 seconds and is only shown in the web app).
 */
export function passMail(uow: PassesWork, m: { kind: "bought" | "received"; toUserId: string; title: string; orderId: string }): void {
  // the mailer puts the web app's address (PASSES_APP_URL) in place of appLink when it sends
  const link = `${appLink}/passes`;
  const [subject, opening] =
    m.kind === "bought"
      ? [`Your ticket for ${m.title}`, `Thank you for your order. Receipt: order ${m.orderId}, ticket "${m.title}".`]
      : [`A ticket for ${m.title} was given to you`, `You received a ticket for "${m.title}" (order ${m.orderId}).`];
  const body = [
    opening,
    "",
    `Your pass is in My passes: ${link}`,
    "Open it at the door: its code changes every 30 seconds, so a screenshot will not get you in.",
  ].join("\n");
  queueMail(uow, { toUserId: m.toUserId, subject, body });
}
