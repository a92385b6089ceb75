-- The trace context (W3C traceparent and tracestate) of the transaction that
-- planned the delivery, usually the consumer's of the event that caused it:
-- the sender hands the message off later, in a loop of its own, and puts
-- the SMTP hand-off or the federation call in that trace. Nullable: older
-- deliveries, and those planned outside a trace, have none and are sent as
-- before. Ids only.
ALTER TABLE deliveries
    ADD COLUMN traceparent text,
    ADD COLUMN tracestate  text;
