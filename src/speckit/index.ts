// Spec Kit discovery: which phase of a feature's tasks.md is next, and the prompt that implements it.
export { parseTasks } from './parse.js';
export { closeTasksReader, configureTasksReader, readTasks, type TasksReaderLimits } from './pool.js';
export { discover, nextPhase, phaseById } from './next-phase.js';
export { directoryTree, discoverFeature, isValidFeatureId, readTasksFile, resolveFeature, type Feature, type FeatureResolution, type FileTree, type TasksReader } from './feature.js';
export { buildPhasePrompt, type PhasePromptInput } from './prompt.js';
export { toDiscoveryJson, type DiscoveryJson } from './json.js';
export {
  SpecErrorCode,
  type Discovery,
  type ParsedTasks,
  type Phase,
  type PhaseRef,
  type PhaseReport,
  type SpecError,
  type Task,
  type TaskCounts,
  type TaskState,
} from './types.js';
