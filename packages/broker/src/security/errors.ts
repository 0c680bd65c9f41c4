// The error a refused insecure configuration raises.
import { type StompErrorOptions, StompInvalidArgumentError } from '@stompede/core';

/**
 * The broker would be reachable from other hosts without authentication, and that was not
 * explicitly allowed (`allowAnonymous`). Raised by `createBroker`; code `ERR_STOMP_INVALID_ARGUMENT`.
 */
export class InsecureConfigurationError extends StompInvalidArgumentError {
  constructor(message: string, options: StompErrorOptions = {}) {
    super(message, options);
  }
}
