import nodemailer, { type Transporter } from "nodemailer";
import { SweepLoop, type Worker } from "@ticketforge/common";
import type { PassesBase } from "../app";
import { claimWaitingMails, markFailed, markSent } from "../db/mails";
import { appLink } from "../mails";

/**
 * Sends the mails the units of work wrote (table `mails`) through nodemailer to SMTP_URL: right
 * after a commit that issued or transferred a pass, and every PASSES_MAIL_SWEEP_MS for mails a
 * crash, a mail server outage or a recipient not known yet left behind. Each mail is claimed,
 * sent and marked in one unit of work: sent at least once (a crash between the send and the
 * commit sends it again). Without SMTP_URL mails wait in the table.
 */
export class Mailer {
  private readonly transport?: Transporter;
  private loop?: SweepLoop;

  constructor(private readonly ctx: PassesBase) {
    const url = ctx.config.SMTP_URL;
    this.transport = url ? nodemailer.createTransport(url) : undefined;
    // a unit of work that announced a pass also wrote its mail: send it now rather than at the next sweep
    ctx.onCommitted((events) => {
      if (events.some((e) => e.subject === "pass.issued")) this.kick();
    });
  }

  start(): Worker {
    if (!this.transport) {
      this.ctx.log.warn("SMTP_URL is not set: mails are kept in the database and not sent");
      return { stop: async () => {} };
    }
    this.loop = new SweepLoop(() => this.pass(), {
      intervalMs: this.ctx.config.PASSES_MAIL_SWEEP_MS,
      onError: (err) => this.ctx.log.warn({ err: (err as Error).message }, "mail pass failed; tried again at the next one"),
    }).start();
    return {
      stop: async () => {
        await this.loop?.stop();
        this.transport?.close();
      },
    };
  }

  kick(): void {
    this.loop?.kick();
  }

  /** For tests: resolves when no pass runs. */
  idle(): Promise<void> {
    return this.loop?.idle() ?? Promise.resolve();
  }

  private async pass(): Promise<void> {
    const transport = this.transport!;
    for (;;) {
      const sent = await this.ctx.work(async (uow) => {
        const [mail] = await claimWaitingMails(uow.db, 1);
        if (!mail) return false;
        try {
          await transport.sendMail({
            from: this.ctx.config.PASSES_MAIL_FROM,
            to: mail.to_address,
            subject: mail.subject,
            text: mail.body.replaceAll(appLink, this.ctx.config.PASSES_APP_URL.replace(/\/$/, "")),
          });
          await markSent(uow.db, mail.id);
          uow.log.info({ mailId: mail.id }, "mail sent");
        } catch (err) {
          await markFailed(uow.db, mail.id, mail.attempts + 1);
          uow.log.warn({ mailId: mail.id, err: (err as Error).message }, "mail not sent; tried again later");
        }
        return true;
      });
      if (!sent) return;
    }
  }
}
