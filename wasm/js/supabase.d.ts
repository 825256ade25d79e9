import type { Transport } from './zustand.js';

/** The part of a Supabase `RealtimeChannel` the transport uses. */
export interface BroadcastChannel {
  send(message: { type: 'broadcast'; event: string; payload: unknown }): unknown;
  on(
    type: 'broadcast',
    filter: { event: string },
    callback: (message: { event: string; payload: unknown }) => void,
  ): unknown;
}

/** Supabase Realtime's broadcast payload limit, in bytes. */
export const SUPABASE_MAX_MESSAGE_BYTES: number;

/** A transport over a channel's broadcast; throws `transport.message_too_large`
 * for a message over `maxBytes`. A client passes its `clientId`, so its
 * messages travel as `{from, message}` and the server knows the sender. */
export function supabaseTransport(
  channel: BroadcastChannel,
  options?: { maxBytes?: number; clientId?: number },
): Transport;
