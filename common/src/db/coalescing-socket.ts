import net from "node:net";

/**
 * The socket under every pooled connection: the statements a process issues on it in one turn of
 * the event loop leave in one system call.
 *
 * In pipeline mode node-postgres writes each statement as soon as it is issued: it corks the
 * socket, writes the statement's protocol messages and uncorks, so each statement is one system
 * call. A unit of work issues several in a row without waiting (begin, the inbox row, the work's
 * statements, the outbox row, the commit); sent one by one, each also woke the PostgreSQL server
 * process once. Here the uncork that would send the first statement is held until the current
 * turn's ticks are done, and what was written meanwhile leaves with it: the server reads the
 * statements in one go. (It still answers each as it completes: PostgreSQL flushes its output at
 * every statement's Sync.) Nothing waits longer than that turn: the held uncork runs before the
 * event loop looks for I/O again.
 *
 * Given to pg through its public `stream` option; only the socket's own `cork`/`uncork` are used.
 * A statement pg sends in the simple protocol (no parameters) is written without a cork, at once:
 * the unit of work sends begin, commit and rollback in the extended protocol so that they travel
 * with the others (`transactionControl` in driver.ts).
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
