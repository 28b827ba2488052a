import { sql, type Queryable } from "@ticketforge/common";
import type { PassesWork } from "./tables";

/** Writes a mail to a user in the unit of work that decided it; the mailer sends it after the commit. */
export function queueMail(uow: PassesWork, m: { toUserId: string; subject: string; body: string }): void {
  uow.send(sql`insert into mails (to_user_id, subject, body) values (${m.toUserId}, ${m.subject}, ${m.body})`);
}

export interface WaitingMail {
  id: string;
  to_address: string;
  subject: string;
  body: string;
  attempts: number;
}

/**
 * Claims mails due now whose recipient's address is known (a user.registered may still be on its
 * way), locked so that two replicas never send one mail at once.
 */
export async function claimWaitingMails(db: Queryable, limit: number): Promise<WaitingMail[]> {
  const r = await sql<WaitingMail>`select m.id, u.email as to_address, m.subject, m.body, m.attempts
    from mails m join users u on u.id = m.to_user_id
    where m.sent_at is null and m.next_attempt_at <= now()
    order by m.next_attempt_at limit ${limit} for update of m skip locked`.execute(db);
  return r.rows;
}

export async function markSent(db: Queryable, id: string): Promise<void> {
  await sql`update mails set sent_at = now(), attempts = attempts + 1 where id = ${id}`.execute(db);
}

/** The mail server refused or was down: try again later, longer each time (at most an hour). */
export async function markFailed(db: Queryable, id: string, attempts: number): Promise<void> {
  const delaySeconds = Math.min(3600, 2 ** Math.min(attempts, 12));
  await sql`update mails set attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ${delaySeconds})
    where id = ${id}`.execute(db);
}
