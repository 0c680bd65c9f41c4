// Boolean header values. The extension headers the broker reads as booleans (`persistent`,
// `requeue`, `durable`, `auto-delete`) are written `true`/`false`; stomp.py writes Python booleans
// as `True`/`False` (e.g. `requeue:False` on NACK, `persistent:True` on SEND), and RabbitMQ
// accepts those, so the broker does too. Any other value is neither true nor false.

/** `true`, or stomp.py's `True`. */
export const isTrueHeader = (value: string | undefined): boolean =>
  value === 'true' || value === 'True';

/** `false`, or stomp.py's `False`. */
export const isFalseHeader = (value: string | undefined): boolean =>
  value === 'false' || value === 'False';
