import net from "node:net";

/**
 * The socket under every pooled connection: the statements a process issues on it in one turn of
 * the event loop leave in one system call.
 *
 * In pipeline mode node-postgres writes each statement as soon as it is issued: it corks the
 * socket, writes the statement's protocol messages and uncorks, so each statement is one system
 * call. A unit of work issues several in a row without waiting (the inbox row, the work's
 * statements, the outbox row, the commit); sent one by one, each is also a separate wake-up and
 * answer of the PostgreSQL server process. Here the uncork that would send the first statement is
 * held until the current turn's ticks are done, and what was written meanwhile leaves with it:
 * the server reads the statements at once and answers them together. Nothing waits longer than
 * that turn: the held uncork runs before the event loop looks for I/O again.
 *
 * Given to pg through its public `stream` option; only the socket's own `cork`/`uncork` are used.
 */
export class CoalescingSocket extends net.Socket {
  private held = false;

  override uncork(): void {
    if (this.writableCorked === 1 && !this.held) {
      this.held = true;
      process.nextTick(() => {
        this.held = false;
        super.uncork();
      });
      return;
    }
    super.uncork();
  }
}
