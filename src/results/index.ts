// The results store's public door: what the results view and the CLI use of src/results/.
export { CacheUnavailableError, QueryRefusedError, ResultsError } from './errors';
export { hasResultFiles } from './outputScan';
export type { RefreshResult } from './resultTables';
export { ResultsStore, type ResultsStoreOptions } from './resultsStore';
export { toCell } from './sql';
export type { VerifyReport } from './verify';
