import { sql, type Queryable } from "@ticketforge/common";

export interface User {
  id: string;
  email: string;
  password_hash: string;
}

export async function insertUser(db: Queryable, email: string, passwordHash: string): Promise<User> {
  const r = await sql<User>`insert into users (email, password_hash) values (${email}, ${passwordHash})
    returning id, email, password_hash`.execute(db);
  return r.rows[0];
}

export async function findUserByEmail(db: Queryable, email: string): Promise<User | undefined> {
  const r = await sql<User>`select id, email, password_hash from users where lower(email) = lower(${email})`.execute(db);
  return r.rows[0];
}

/** Replaces a hash, unless another sign-in replaced it first. */
export async function updatePasswordHash(db: Queryable, id: string, previous: string, next: string): Promise<void> {
  await sql`update users set password_hash = ${next} where id = ${id} and password_hash = ${previous}`.execute(db);
}
