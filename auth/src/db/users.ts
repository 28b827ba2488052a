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
