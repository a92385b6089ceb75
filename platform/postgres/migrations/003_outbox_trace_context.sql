-- The trace context (W3C traceparent and tracestate) of the transaction that
-- wrote the event, which the relay puts on the NATS message so that the
-- consumers' spans join the trace of the request that caused the event.
-- Nullable: rows written before this migration, or outside any trace, have
-- none and are published all the same. Ids only, never text a person typed.
ALTER TABLE outbox
    ADD COLUMN traceparent text,
    ADD COLUMN tracestate  text;
