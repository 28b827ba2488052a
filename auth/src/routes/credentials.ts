import { z } from "zod";

/** Sign-up and sign-in take the same body; the email is trimmed and kept in lower case. */
export const credentials = z.object({
  email: z
    .string({ message: "Email must be a string" })
    .trim()
    .max(254, "Email must be at most 254 characters")
    .pipe(z.email({ message: "Email must be valid" }))
    .transform((e) => e.toLowerCase()),
  password: z
    .string({ message: "Password must be a string" })
    .min(8, "Password must be between 8 and 128 characters")
    .max(128, "Password must be between 8 and 128 characters"),
});
