import type { Cursor, FileEntry, Manifest, Op, Progress, Utf16Change } from './index.js';

/** What the slice sends and listens on: a Supabase channel, a WebSocket, or
 * an in-memory hub. `payload` is the whole protocol envelope. */
export interface Transport {
  send(event: string, payload: unknown): void | Promise<unknown>;
  on(event: string, handler: (payload: unknown) => void): void;
}

export type Connection = 'disconnected' | 'connecting' | 'synced';

/** An edit the editor must show: `op` turns `before` into `after`. */
export interface EditNotice {
  id: string;
  op: Op;
  before: string;
  after: string;
  origin: 'remote' | 'reset' | 'undo' | 'redo';
}

export interface SyncState {
  readonly clientId: number;
  connection: Connection;
  /** The confirmed manifest (null before the first catch-up). */
  manifest: Manifest | null;
  manifestId: string | null;
  /** The confirmed manifest's files by id. */
  files: Record<string, FileEntry>;
  /** Local text of every open file (confirmed plus unconfirmed edits). */
  texts: Record<string, string>;
  /** Hydration progress of the last snapshot, if one arrived. */
  hydration: Progress | null;
  /** Files with unconfirmed edits. */
  pending: string[];
  /** Whether nothing local waits for confirmation. */
  idle: boolean;
  /** Remote cursors per file per client, in characters of the local text. */
  presence: Record<string, Record<string, Cursor>>;
  /** Requests the server refused. */
  rejected: Array<{ code: string; message: string; id: string | null }>;
  /** Messages that could not be read (`protocol.*`); nothing was applied. */
  errors: Array<{ code: string; message: string }>;

  connect(): void;
  disconnect(): void;
  reconnect(): void;
  receive(payload: unknown): void;
  openFile(id: string): string | undefined;
  localEdit(id: string, changes: readonly Utf16Change[]): Op;
  /**
   * One editor change (UTF-16 offset, code units deleted, text inserted): the
   * per-keystroke path `bindMonaco` uses, with only numbers and the typed text
   * crossing into the module.
   */
  localSplice(id: string, offset: number, deleted: number, text: string): void;
  localOp(id: string, op: Op): void;
  undo(id: string): Op | undefined;
  redo(id: string): Op | undefined;
  createFile(path: string, content?: string | Uint8Array): string;
  deleteFile(id: string): void;
  renameFile(id: string, to: string): void;
  setCursor(id: string, cursor: Cursor | null): void;
  subscribeEdits(listener: (notice: EditNotice) => void): () => void;
  fileText(id: string): string | undefined;
}

export interface SyncSliceOptions {
  clientId: number;
  transport: Transport;
  undoLimit?: number;
}

type SetState<T> = (partial: Partial<T>) => void;
type GetState<T> = () => T;

export function createSyncSlice(options: SyncSliceOptions): (set: SetState<SyncState>, get: GetState<SyncState>, ...rest: unknown[]) => SyncState;
