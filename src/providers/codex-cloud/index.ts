// Codex Cloud behind one narrow interface: the chain imports from here only.
export type * from './types.js';
export { createCodexCloudClient, DEFAULT_CODEX_AUTH_URL, DEFAULT_CODEX_BASE_URL, type CodexCloudClientOptions } from './client.js';
export { checkCodexAccess, type CodexAccessCheck } from './preflight.js';
export { appendJsonLines, changedFiles, execJsonLines, type CodexLogEvent } from './exec-log.js';
export { redactSecrets } from '../redact.js';
export { jwtExpiry } from './auth.js';
