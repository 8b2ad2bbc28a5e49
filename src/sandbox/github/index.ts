export { startGitHubEmulator } from './server.js';
export type { EmulatorToken, GitHubEmulator, GitHubEmulatorOptions, PullRequestView, RecordedRequest } from './server.js';
export type { Fault, FaultKind } from './faults.js';
export { FAULT_KINDS } from './faults.js';
