import { describe, expect, test } from 'vitest';
import { buildPhasePrompt, discover, type PhaseReport } from '../../src/speckit/index.js';
import { fixture } from './fixtures.js';

function nextOf(name: string): PhaseReport {
  const discovery = discover(fixture(name));
  if (discovery.status !== 'PHASE') throw new Error(`no phase in ${name}`);
  return discovery.phase;
}

describe('buildPhasePrompt', () => {
  const phase = nextOf('template.md');
  const prompt = buildPhasePrompt({ phase, featureDir: 'specs/001-celery-chain-workflow', hasPlan: true, hasSpec: true });

  test('invokes the Spec Kit skill for exactly one phase, naming its id, title and task range', () => {
    expect(prompt.split('\n')[0]).toBe(
      '$speckit-implement Implement only Phase 3 "User Story 1 - Start a chain (Priority: P1) 🎯 MVP" (T011, T012, T014) of specs/001-celery-chain-workflow/tasks.md.',
    );
    expect(prompt).toContain('/speckit.implement');
  });

  test('lists each open task with its markers and description, and the done ones to leave alone', () => {
    expect(prompt).toContain('- T011 [P] [US1] Integration test for the chain in tests/integration/test_chain.py\n');
    expect(prompt).toContain('- T012 [US1] Create Run model in src/models/run.py\n');
    expect(prompt).toContain('- T014 [US1] Implement RunService in src/services/run_service.py (depends on T012)\n');
    expect(prompt).toContain('Already done in this phase, leave as they are: T010.');
    expect(prompt).not.toContain('T020');
  });

  test('says how to mark tasks, to stay inside the phase, to follow plan and spec, and not to stop for checklists', () => {
    expect(prompt).toContain('change its checkbox from "[ ]" to "[X]" in specs/001-celery-chain-workflow/tasks.md');
    expect(prompt).toContain('Do not work on, edit or re-mark tasks of any other phase');
    expect(prompt).toContain('Follow specs/001-celery-chain-workflow/plan.md and specs/001-celery-chain-workflow/spec.md');
    expect(prompt).toContain('checklists under specs/001-celery-chain-workflow/checklists/ have open items, do not stop to ask');
  });

  test('a long phase is named by its first and last task ids', () => {
    const text = ['## Phase 7: Bulk', ...Array.from({ length: 12 }, (_, i) => `- [ ] T${String(i + 1).padStart(3, '0')} Task ${i + 1}`)].join('\n');
    const discovery = discover(text);
    if (discovery.status !== 'PHASE') throw new Error('expected a phase');
    const bulk = buildPhasePrompt({ phase: discovery.phase, featureDir: 'specs/001-x', hasPlan: false, hasSpec: false });
    expect(bulk.split('\n')[0]).toBe('$speckit-implement Implement only Phase 7 "Bulk" (T001–T012, 12 tasks) of specs/001-x/tasks.md.');
    expect(bulk).toContain('- T012 Task 12\n');
  });

  test('is deterministic', () => {
    expect(buildPhasePrompt({ phase: nextOf('template.md'), featureDir: 'specs/001-celery-chain-workflow/', hasPlan: true, hasSpec: true })).toBe(prompt);
  });

  test('names only the guides that exist', () => {
    const planOnly = buildPhasePrompt({ phase, featureDir: 'specs/001-x', hasPlan: true, hasSpec: false });
    expect(planOnly).toContain('Follow specs/001-x/plan.md (');
    expect(planOnly).not.toContain('spec.md');
    const none = buildPhasePrompt({ phase, featureDir: 'specs/001-x', hasPlan: false, hasSpec: false });
    expect(none).toContain('specs/001-x has no plan.md or spec.md');
  });

  test('a nested phase names its parent; tasks without ids are named by line; dropped ones are listed apart', () => {
    const nested = buildPhasePrompt({ phase: nextOf('nested.md'), featureDir: 'specs/001-x', hasPlan: false, hasSpec: false });
    expect(nested).toContain('Implement only Phase 1.2 "Queues" (T004, T005)');
    expect(nested).toContain('This phase is part of Phase 1 "Foundation" (line 1)');

    const gates = buildPhasePrompt({ phase: nextOf('gates-inside.md'), featureDir: 'specs/001-x', hasPlan: false, hasSpec: false });
    expect(gates.split('\n')[0]).toBe('$speckit-implement Implement only Phase 2 "Polish" of specs/001-x/tasks.md.');
    expect(gates).toContain('- (line 10) All tests pass\n');

    const dropped = buildPhasePrompt({ phase: nextOf('dropped.md'), featureDir: 'specs/001-x', hasPlan: false, hasSpec: false });
    expect(dropped).toContain('Implement only Phase 3 "Extras" (T006)');
  });
});
