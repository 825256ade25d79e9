// A transport over a Supabase Realtime channel's broadcast. Messages travel
// as `{type: "broadcast", event, payload}` with the protocol envelope as the
// payload. On a broadcast every subscriber hears every message, so a client
// names itself (`clientId`: payload `{from, message}`) and the server's
// messages carry their addressing (`{to, client, message}`), which the store
// filters. A message over the channel's size limit is refused before it is
// sent (core cuts hydration batches at 200 KiB, under the limit).

/** Supabase Realtime's broadcast payload limit, in bytes. */
export const SUPABASE_MAX_MESSAGE_BYTES = 256 * 1024;

const encoder = new TextEncoder();

/** A `{ send, on }` transport over `channel` (register before `subscribe()`). */
export function supabaseTransport(channel, { maxBytes = SUPABASE_MAX_MESSAGE_BYTES, clientId } = {}) {
  return {
    send(event, message) {
      const payload = clientId === undefined ? message : { from: clientId, message };
      const bytes = encoder.encode(JSON.stringify({ event, payload })).length;
      if (bytes > maxBytes) {
        const err = new Error(
          `message ${event} is ${bytes} bytes, over the channel's ${maxBytes}-byte limit`,
        );
        err.name = 'VelocitySyncError';
        err.code = 'transport.message_too_large';
        throw err;
      }
      return channel.send({ type: 'broadcast', event, payload });
    },
    on(event, handler) {
      channel.on('broadcast', { event }, (message) => handler(message.payload));
    },
  };
}
