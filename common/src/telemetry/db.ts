import { context, SpanKind, trace, type Tracer } from "@opentelemetry/api";
import type { Db } from "../db/database";
import { inSpan } from "./tracing";

/**
 * The service's database handle with a span around every transaction, so routes and listeners
 * keep writing `db.transaction().execute(...)` and still show up in the trace. Only transactions
 * inside a trace get a span: the pollers (timers, refunds) would otherwise start a new trace
 * several times a second. Kysely keeps its state in private fields, so every method runs on the
 * real object, never on the proxy.
 */
export function traceTransactions(db: Db, tracer: Tracer): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "transaction") return () => tracedBuilder(target.transaction(), tracer);
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

interface Builder {
  execute<T>(fn: (tx: never) => Promise<T>): Promise<T>;
}

// setIsolationLevel() and friends return new builders: those are traced too
function tracedBuilder<B extends object>(builder: B, tracer: Tracer): B {
  return new Proxy(builder, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "execute") {
        return <T>(fn: (tx: never) => Promise<T>) => {
          const execute = () => (target as unknown as Builder).execute(fn);
          if (!trace.getSpan(context.active())) return execute();
          const attributes = { "db.system.name": "postgresql" };
          return inSpan(tracer, "db.transaction", { kind: SpanKind.CLIENT, attributes }, execute);
        };
      }
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        return result && typeof result === "object" && "execute" in result ? tracedBuilder(result, tracer) : result;
      };
    },
  });
}
