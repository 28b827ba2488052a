import type { PassesWork } from "./db/tables";
import { admitPass, findCheckin, findPass, recordConflict } from "./db/passes";
import { checkCode, type SigningKey } from "./signing";

/** What a scan of a code comes to, in the words the door shows. */
export type ScanOutcome =
  | { outcome: "admitted"; passId: string; ticketId: string; title: string; scanner: string; admittedAt: Date }
  | { outcome: "already admitted"; passId: string; scanner: string; admittedAt: Date }
  | { outcome: "revoked"; passId: string }
  | { outcome: "forged" | "expired"; passId: string | null }
  | { outcome: "not the seller"; passId: string };

/**
 * One scan at the door, in the caller's unit of work: the signature and the window first (the
 * public key suffices), then the seller, then the pass's state. The database decides the race of
 * twenty scans at once: the one statement that moves the pass from valid to used (admitPass).
 * `scannedAt` is now online, or when an offline scanner saw the code.
 */
export async function scan(
  uow: PassesWork,
  signing: SigningKey,
  s: { code: string; sellerId: string; scanner: string; scannedAt: Date; offline: boolean },
): Promise<ScanOutcome> {
  const checked = checkCode([signing.publicKey], s.code, s.scannedAt.getTime());
  if (!checked.ok) return { outcome: checked.reason, passId: checked.passId };
  const pass = await findPass(uow.db, checked.passId);
  // a genuine signature on a pass this database does not have: restored from an older backup
  if (!pass) return { outcome: "forged", passId: checked.passId };
  if (pass.seller_id !== s.sellerId) return { outcome: "not the seller", passId: pass.id };
  if (pass.status === "transferred") return { outcome: "revoked", passId: pass.id };
  const admitted = await admitPass(uow.db, { passId: pass.id, scanner: s.scanner, admittedAt: s.scannedAt, offline: s.offline });
  if (admitted) {
    uow.publish("pass.checked_in", {
      id: pass.id,
      ticketId: pass.ticket_id,
      scanner: s.scanner,
      admittedAt: s.scannedAt.toISOString(),
      offline: s.offline,
    });
    return {
      outcome: "admitted",
      passId: pass.id,
      ticketId: pass.ticket_id,
      title: pass.title,
      scanner: s.scanner,
      admittedAt: s.scannedAt,
    };
  }
  // not valid any more: admitted by another scan (perhaps this very instant), or transferred since the read
  const first = await findCheckin(uow.db, pass.id);
  if (!first) return { outcome: "revoked", passId: pass.id };
  return { outcome: "already admitted", passId: pass.id, scanner: first.scanner, admittedAt: new Date(first.admitted_at) };
}

/** An offline admission the server cannot merge: kept for the seller (checkin_conflicts). */
export async function reportConflict(
  uow: PassesWork,
  c: { passId: string; scanner: string; scannedAt: Date; reason: string },
): Promise<void> {
  await recordConflict(uow.db, c);
  uow.log.warn({ passId: c.passId, scanner: c.scanner, reason: c.reason }, "offline check-in conflicts");
}
