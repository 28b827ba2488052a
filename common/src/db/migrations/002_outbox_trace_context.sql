-- W3C trace context (traceparent, tracestate) of the work that wrote the event: the relay sends it
-- in the message headers, so the consumers continue the same trace.
alter table outbox add column trace_context jsonb;
