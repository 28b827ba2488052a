import { sql, type Queryable } from "@ticketforge/common";

/** How long a network stays known after the account's last successful sign-in from it. */
const knownForDays = 90;

export async function isKnownNetwork(db: Queryable, userId: string, network: string): Promise<boolean> {
  const r = await sql`select 1 from known_networks
    where user_id = ${userId} and network = ${network} and last_seen > now() - make_interval(days => ${knownForDays})`.execute(db);
  return r.rows.length > 0;
}

export async function rememberNetwork(db: Queryable, userId: string, network: string): Promise<void> {
  await sql`insert into known_networks (user_id, network) values (${userId}, ${network})
    on conflict (user_id, network) do update set last_seen = now()`.execute(db);
}
