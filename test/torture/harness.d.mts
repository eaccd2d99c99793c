/** Types of harness.mjs, for kill-torture.test.ts. */

export type TortureMode = 'durable' | 'naive';

export interface TortureOptions {
  readonly mode: TortureMode;
  readonly seconds: number;
  readonly seed: number;
  readonly writers?: number | undefined;
  readonly files?: number | undefined;
  readonly readers?: number | undefined;
  readonly minSize?: number | undefined;
  readonly maxSize?: number | undefined;
  readonly killMeanMs?: number | undefined;
  readonly dist?: string | undefined;
  readonly baseDir?: string | undefined;
  readonly keepDir?: boolean | undefined;
  readonly log?: ((line: string) => void) | undefined;
}

export interface TortureConfig {
  readonly mode: TortureMode;
  readonly seconds: number;
  readonly seed: number;
  readonly writers: number;
  readonly files: number;
  readonly readers: number;
  readonly minSize: number;
  readonly maxSize: number;
  readonly killMeanMs: number;
}

export interface WriterError {
  readonly writer: number;
  readonly incarnation: number;
  readonly code: number | null;
  readonly signal: string | null;
  readonly error?: string | undefined;
  readonly stderr: string;
}

export interface FinalFile {
  readonly name: string;
  readonly ok: boolean;
  readonly version?: string;
  readonly bytes?: number;
  readonly problem?: string;
}

export interface TortureResult {
  readonly config: TortureConfig;
  readonly dir: string;
  readonly durationSeconds: number;
  readonly kills: number;
  readonly killsSkipped: number;
  readonly finalKills: number;
  readonly spawns: number;
  readonly writesCompleted: number;
  readonly writesPerSecond: number;
  readonly writesPerFile: readonly number[];
  readonly writerErrors: readonly WriterError[];
  readonly writerStartMs: number;
  readonly firstStartMs: number;
  readonly readsChecked: number;
  readonly readsOk: number;
  readonly badReads: number;
  readonly badReadKinds: Readonly<Record<string, number>>;
  readonly emptyReads: number;
  readonly shortReads: number;
  readonly tornReads: number;
  readonly missingBeforeFirstWrite: number;
  readonly missingAfterSeen: number;
  readonly versionChanges: number;
  readonly readerErrors: readonly string[];
  readonly badReadSamples: readonly { readonly file: number; readonly what: string; readonly at: number }[];
  readonly finalFiles: readonly FinalFile[];
  readonly finalFilesOk: number;
  readonly tempsBeforeCleanup: number;
  readonly tempsRemoved: number;
  readonly tempsKept: number;
  readonly leftover: readonly string[];
  readonly remaining: readonly string[];
}

export const WRITER_SCRIPT: string;
export const READER_SCRIPT: string;
export const DIST_ESM: string;
export const DEFAULTS: Readonly<Record<TortureMode, Omit<TortureConfig, 'mode' | 'seconds' | 'seed'>>>;
export function randomSeed(): number;
export function envNumber(name: string, fallback: number): number;
export function runTorture(options: TortureOptions): Promise<TortureResult>;
export function summarize(result: TortureResult): string;
export function durableProblems(result: TortureResult): string[];
export function twinProblems(result: TortureResult): string[];
