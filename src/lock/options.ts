/** Options every backend understands, beside its `LockConfig`. */
export interface LockManagerOptions {
  /**
   * Failures that happen off the caller's stack (renewals, dropped connections,
   * best-effort cleanups). The affected lease's `lost` signal already reports
   * what matters to its holder; this hook is for logs and metrics.
   */
  readonly onBackgroundError?: (error: unknown) => void;
}
