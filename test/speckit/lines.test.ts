import { describe, expect, test } from 'vitest';
import { readPhaseHeading } from '../../src/speckit/phase-heading.js';
import { readTaskText } from '../../src/speckit/task-text.js';

describe('readPhaseHeading', () => {
  test.each([
    ['Phase 1: Setup (Shared Infrastructure)', '1', 'Setup (Shared Infrastructure)'],
    ['Phase 0: Research', '0', 'Research'],
    ['Phase 3.10: Release', '3.10', 'Release'],
    ['Phase 3.1 - Setup', '3.1', 'Setup'],
    ['Phase 5b – Follow-up', '5b', 'Follow-up'],
    ['Phase A — Audit', 'A', 'Audit'],
    ['Phase 2 · Build', '2', 'Build'],
    ['Phase 2·Build', '2', 'Build'],
    ['Phase 7 Polish', '7', 'Polish'],
    ['Phase 4', '4', ''],
    ['Phase 4.', '4', ''],
    ['Phase 12: 準備 🎯 `code`', '12', '準備 🎯 `code`'],
    ['Phase 1 (regression tests fail RED)', '1', '(regression tests fail RED)'],
    ['PHASE 2: Loud', '2', 'Loud'],
  ])('%s', (text, id, title) => {
    expect(readPhaseHeading(text)).toEqual({ id, title });
  });

  test.each([
    'Phase Dependencies',
    'Phase Assumptions',
    'Phases overview',
    'Phase',
    'Phase a: lower-case letter',
    'Phase 10abc',
    'Phase 1_2',
    'Tasks: Phase 1',
    'Dependencies & Execution Order',
  ])('not a phase: %s', (text) => {
    expect(readPhaseHeading(text)).toBeNull();
  });
});

describe('readTaskText', () => {
  test.each([
    ['T001 Create project structure', 'T001', false, null, 'Create project structure'],
    ['T002 [P] Configure linting in .eslintrc', 'T002', true, null, 'Configure linting in .eslintrc'],
    ['T010 [P] [US1] Contract test', 'T010', true, 'US1', 'Contract test'],
    ['T014 [US1] [P] Markers in either order', 'T014', true, 'US1', 'Markers in either order'],
    ['[P] T015 Marker before the id', 'T015', true, null, 'Marker before the id'],
    ['**T001** Bold id', 'T001', false, null, 'Bold id'],
    ['**T001**: Bold id, colon after', 'T001', false, null, 'Bold id, colon after'],
    ['**T001:** Colon inside the bold', 'T001', false, null, 'Colon inside the bold'],
    ['**T014e [UI-Parity – Host Reuse]** Reuse the host', 'T014e', false, null, '[UI-Parity – Host Reuse] Reuse the host'],
    ['__T003__ Underscores', 'T003', false, null, 'Underscores'],
    ['`T004` In code', 'T004', false, null, 'In code'],
    ['T056a Suffixed', 'T056a', false, null, 'Suffixed'],
    ['T082.6 Dotted', 'T082.6', false, null, 'Dotted'],
    ['T-NEW-A [P] Dashed', 'T-NEW-A', true, null, 'Dashed'],
    ['T005 - Dash separator', 'T005', false, null, 'Dash separator'],
    ['T006. Period separator', 'T006', false, null, 'Period separator'],
    ['Test the parser', null, false, null, 'Test the parser'],
    ['T001Create glued', null, false, null, 'T001Create glued'],
    ['T-shirt sizes', null, false, null, 'T-shirt sizes'],
    ['Write docs (T001)', null, false, null, 'Write docs (T001)'],
    ['[P1] Priority is not parallel', null, false, null, '[P1] Priority is not parallel'],
    ['  T007   spaced\n   over lines  ', 'T007', false, null, 'spaced over lines'],
    ['', null, false, null, ''],
  ])('%j', (raw, id, parallel, story, description) => {
    expect(readTaskText(raw)).toEqual({ id, parallel, story, description });
  });
});
