import { describe, expect, it } from 'vitest';
import { requestedTaskIds, tasksPathIn } from '../../src/sandbox/codex-cloud/agent.js';

const TASKS = [
  '# Tasks: X',
  '## Phase 1: Setup',
  '- [ ] T001 Create folders',
  '- [X] T002 [P] Lint',
  '## Phase 2: Foundational',
  '- [ ] **T003** Normaliser',
  '  - [ ] T003a child task',
  '- [ ] T004 [P] Tests',
  '## Phase 3: User Story 1 - Greet (Priority: P1)',
  '### Implementation for User Story 1',
  '- [ ] T005 [US1] Greet',
  '## Dependencies & Execution Order',
].join('\r\n');

describe('imitation agent prompt reading', () => {
  it('finds the tasks file the prompt names', () => {
    expect(tasksPathIn('Implement only Phase 2 of `specs/001-greeting/tasks.md` now')).toBe('specs/001-greeting/tasks.md');
    expect(tasksPathIn('see /specs/002-x/tasks.md.')).toBe('specs/002-x/tasks.md');
    expect(tasksPathIn('no file here')).toBeNull();
  });

  it('expands ranges in document order and keeps single ids', () => {
    expect(requestedTaskIds('Implement T003–T004 and T001', TASKS)).toEqual(['T001', 'T003', 'T003a', 'T004']);
    expect(requestedTaskIds('Do T001 through T002', TASKS)).toEqual(['T001', 'T002']);
    expect(requestedTaskIds('Do T999', TASKS)).toEqual([]);
  });

  it('takes the tasks a prompt lists, not ids it mentions in passing', () => {
    const prompt = [
      '$speckit-implement Implement only Phase 2 "Foundational" (T003–T004) of specs/001-x/tasks.md.',
      'Open tasks of Phase 2:',
      '- T003 Normaliser (depends on T001)',
      '- T004 [P] Tests',
      'Already done in this phase, leave as they are: T002.',
    ].join('\n');
    expect(requestedTaskIds(prompt, TASKS)).toEqual(['T003', 'T004']);
  });

  it('takes every task under the named phase when no id is given, nested headings included', () => {
    expect(requestedTaskIds('Implement only Phase 3 of the feature', TASKS)).toEqual(['T005']);
    expect(requestedTaskIds('Implement only Phase 2', TASKS)).toEqual(['T003', 'T003a', 'T004']);
  });
});
