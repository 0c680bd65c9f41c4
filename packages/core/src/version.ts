/** A STOMP protocol version this library speaks. */
export type StompVersion = '1.0' | '1.1' | '1.2';

/** Every version we speak, newest first (the order a client offers them in). */
export const SUPPORTED_VERSIONS: readonly StompVersion[] = Object.freeze(['1.2', '1.1', '1.0']);

/** True when `value` names a version this library speaks. */
export function isStompVersion(value: string): value is StompVersion {
  return value === '1.2' || value === '1.1' || value === '1.0';
}
