/**
 * Thrown for every kind of malformed push body (bad snappy, bad protobuf). The server maps it
 * to HTTP 400; the message names what was wrong and where, so a client author can fix it.
 */
export class PushDecodeError extends Error {
  override readonly name = 'PushDecodeError';
}
