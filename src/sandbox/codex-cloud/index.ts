// The local Codex Cloud used by tests and the demo.
export { startCodexEmulator, type CodexEmulator, type CodexEmulatorOptions, type RecordedRequest } from './server.js';
export type { ScriptedOutcome } from './outcomes.js';
export type { EmulatorEnvironment } from './tasks.js';
export type { EmulatorAccount, IssuedLogin } from './tokens.js';
export { repositoryPath } from './checkout.js';
