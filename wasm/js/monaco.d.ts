/** The parts of Monaco the adapter uses (structural: every monaco-editor
 * version with these members fits). */
export interface MonacoPosition {
  lineNumber: number;
  column: number;
}
export interface MonacoRange {
  startLineNumber: number;
  startColumn: number;
  endLineNumber: number;
  endColumn: number;
}
export interface MonacoSelection {
  selectionStartLineNumber: number;
  selectionStartColumn: number;
  positionLineNumber: number;
  positionColumn: number;
  getPosition(): MonacoPosition;
  getSelectionStart(): MonacoPosition;
}
/** A remote cursor as the adapter draws it. */
export interface MonacoDecoration {
  range: MonacoRange;
  options: {
    className?: string;
    beforeContentClassName?: string;
    hoverMessage?: { value: string };
  };
}
export interface MonacoContentChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}
export interface MonacoDisposable {
  dispose(): void;
}
export interface MonacoModel {
  getValue(): string;
  setValue(value: string): void;
  setEOL(eol: number): void;
  getOffsetAt(position: MonacoPosition): number;
  getPositionAt(offset: number): MonacoPosition;
  applyEdits(edits: Array<{ range: MonacoRange; text: string }>): unknown;
}
export interface MonacoEditor {
  getModel(): MonacoModel | null;
  getSelections(): MonacoSelection[] | null;
  setSelections(selections: readonly MonacoSelection[]): void;
  setPosition(position: MonacoPosition): void;
  updateOptions(options: { readOnly?: boolean }): void;
  addCommand(keybinding: number, handler: () => void): string | null;
  onDidChangeModelContent(listener: (event: { changes: MonacoContentChange[] }) => void): MonacoDisposable;
  onDidChangeCursorSelection(listener: (event: { selection: MonacoSelection }) => void): MonacoDisposable;
  createDecorationsCollection(decorations: MonacoDecoration[]): {
    set(decorations: readonly MonacoDecoration[]): unknown;
    clear(): void;
  };
}
export interface MonacoNamespace {
  editor: { EndOfLineSequence: { LF: number; CRLF: number } };
  Range: new (startLine: number, startColumn: number, endLine: number, endColumn: number) => MonacoRange;
  Selection: new (anchorLine: number, anchorColumn: number, headLine: number, headColumn: number) => MonacoSelection;
  KeyMod: { CtrlCmd: number; Shift: number };
  KeyCode: { KeyZ: number; KeyY: number };
}

import type { SyncState } from './zustand.js';

/** A Zustand store holding the sync slice. */
export interface SyncStore {
  getState(): SyncState;
  subscribe(listener: (state: SyncState) => void): () => void;
}

export function lineEndings(text: string): 'crlf' | 'lf' | 'mixed';

export interface MonacoBinding {
  /** False for a mixed-line-ending file (shown read-only). */
  readonly exact: boolean;
  readonly endings: 'crlf' | 'lf' | 'mixed';
  /** Remote edits after which the model had to be reset to the store's
   * text because Monaco changed the bytes (0 when everything is exact). */
  readonly resets: number;
  dispose(): void;
}

export function bindMonaco(options: {
  monaco: MonacoNamespace;
  editor: MonacoEditor;
  store: SyncStore;
  fileId: string;
  keybindings?: boolean;
  /** Called when a local edit cannot be applied (the model is reset to the store's text). */
  onError?: (error: Error) => void;
}): MonacoBinding;
