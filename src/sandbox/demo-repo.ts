import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { repositoryPath } from './codex-cloud/checkout.js';
import { git } from './codex-cloud/git.js';

/**
 * The demo project every sandbox run works on: a small JavaScript "widgets" catalogue with three Spec Kit
 * features whose tasks are all open: `specs/001-greeting` (named by .specify/feature.json), `002-pricing`
 * and `003-search`, so several runs can be started at once and watched queue. It lives as a bare repository at
 * `${gitRoot}/<owner>/<name>.git`, the layout the Codex Cloud and GitHub emulators share.
 */
export interface DemoRepository {
  /** `owner/name`. */
  repository: string;
  /** The bare repository on disk. */
  path: string;
  defaultBranch: string;
  featureId: string;
  tasksPath: string;
  /** False when the repository was already there and left untouched. */
  created: boolean;
}

interface DemoCommit {
  message: string;
  date: string;
  files: Record<string, string>;
}

const README_V1 = `# Widgets

A tiny catalogue of widgets, used to try out spec-chain.

## Usage

    node src/cli.js list

## Development

    node --test
`;

const WIDGETS_V1 = `// The widget catalogue.
export const widgets = [
  { id: 'w-1', name: 'Sprocket', price: 3 },
  { id: 'w-2', name: 'Flange', price: 5 },
];

export function findWidget(id) {
  return widgets.find((w) => w.id === id) ?? null;
}
`;

const WIDGETS_V2 = `${WIDGETS_V1}
export function totalPrice(ids) {
  return ids.map(findWidget).reduce((sum, w) => sum + (w ? w.price : 0), 0);
}
`;

const SPEC = `# Feature Specification: Greeting

**Feature Branch**: \`001-greeting\`
**Created**: 2025-01-09
**Status**: Draft
**Input**: User description: "The widgets CLI greets a visitor by name."

## User Scenarios & Testing *(mandatory)*

### User Story 1 - Greet a visitor by name (Priority: P1)

A visitor runs \`widgets greet Ada\` and is greeted by name, so the catalogue feels friendly.

**Why this priority**: It is the whole feature.

**Independent Test**: Run \`node src/cli.js greet Ada\` and read "Hello, Ada!".

**Acceptance Scenarios**:

1. **Given** the CLI, **When** the visitor runs \`greet Ada\`, **Then** it prints "Hello, Ada!".
2. **Given** the CLI, **When** the visitor runs \`greet\` with no name, **Then** it prints "Hello, visitor!".

### Edge Cases

- A name with surrounding spaces is trimmed before greeting.

## Requirements *(mandatory)*

### Functional Requirements

- **FR-001**: The CLI MUST accept a \`greet <name>\` command.
- **FR-002**: The greeting MUST be "Hello, <name>!" with the name trimmed.
- **FR-003**: With no name the greeting MUST address "visitor".

## Success Criteria *(mandatory)*

- **SC-001**: \`node --test\` passes with tests for every acceptance scenario.
`;

const PLAN = `# Implementation Plan: Greeting

**Branch**: \`001-greeting\` | **Date**: 2025-01-09 | **Spec**: [spec.md](./spec.md)

## Summary

Add a \`greet\` command to the widgets CLI, backed by a small greeting module.

## Technical Context

**Language/Version**: JavaScript (Node.js 22, ES modules)
**Primary Dependencies**: none
**Testing**: node:test
**Project Type**: single project

## Project Structure

\`\`\`text
src/
├── cli.js
├── widgets.js
└── greeting/
    ├── index.js
    └── normalise.js
test/
├── widgets.test.js
├── normalise.test.js
└── greeting.test.js
\`\`\`
`;

const TASKS = `# Tasks: Greeting

**Input**: Design documents from \`/specs/001-greeting/\`
**Prerequisites**: plan.md (required), spec.md (required for user stories)

**Organization**: Tasks are grouped by user story to enable independent implementation and testing of each story.

## Format: \`[ID] [P?] [Story] Description\`

- **[P]**: Can run in parallel (different files, no dependencies)
- **[Story]**: Which user story this task belongs to (e.g., US1)

## Phase 1: Setup (Shared Infrastructure)

**Purpose**: Project initialization and basic structure

- [ ] T001 Create the src/greeting/ folder with an empty src/greeting/index.js
- [ ] T002 [P] Add a \`greet\` script to package.json

**Checkpoint**: Structure ready

---

## Phase 2: Foundational (Blocking Prerequisites)

**Purpose**: Core pieces that MUST be complete before the user story can be implemented

- [ ] T003 Add a name normaliser (trim, empty to null) in src/greeting/normalise.js
- [ ] T004 [P] Add unit tests for the normaliser in test/normalise.test.js

**Checkpoint**: Foundation ready - user story implementation can now begin

---

## Phase 3: User Story 1 - Greet a visitor by name (Priority: P1) 🎯 MVP

**Goal**: \`widgets greet Ada\` prints "Hello, Ada!"

**Independent Test**: Run \`node src/cli.js greet Ada\`

### Tests for User Story 1

- [ ] T005 [P] [US1] Test that greet('Ada') returns "Hello, Ada!" in test/greeting.test.js

### Implementation for User Story 1

- [ ] T006 [US1] Implement greet(name) in src/greeting/index.js (depends on T003)
- [ ] T007 [US1] Add the \`greet <name>\` command to src/cli.js

**Checkpoint**: User Story 1 is fully functional and testable on its own

---

## Phase 4: Polish & Cross-Cutting Concerns

- [ ] T008 [P] Document the greet command in README.md

## Dependencies & Execution Order

### Phase Dependencies

- Setup (Phase 1) has no dependencies; Foundational (Phase 2) depends on Setup and blocks User Story 1.
- Polish (Phase 4) depends on User Story 1.
`;

/** A feature folder with a short spec, a plan and its tasks, for the features besides 001-greeting. */
function feature(id: string, title: string, story: string, phases: [string, string[]][]): Record<string, string> {
  let n = 0;
  const tasks = phases
    .map(([phase, items], i) => [`## Phase ${i + 1}: ${phase}`, '', ...items.map((t) => `- [ ] T${String(++n).padStart(3, '0')} ${t}`), ''].join('\n'))
    .join('\n---\n\n');
  return {
    [`specs/${id}/spec.md`]: `# Feature Specification: ${title}\n\n**Feature Branch**: \`${id}\`\n**Status**: Draft\n\n## User Scenarios & Testing *(mandatory)*\n\n### User Story 1 - ${story} (Priority: P1)\n`,
    [`specs/${id}/plan.md`]: `# Implementation Plan: ${title}\n\n**Branch**: \`${id}\` | **Spec**: [spec.md](./spec.md)\n\n**Language/Version**: JavaScript (Node.js 22, ES modules)\n`,
    [`specs/${id}/tasks.md`]: `# Tasks: ${title}\n\n**Input**: Design documents from \`/specs/${id}/\`\n\n${tasks}`,
  };
}

const PRICING = feature('002-pricing', 'Pricing', 'Quote a basket with a discount', [
  ['Setup', ['Create src/pricing/index.js exporting quote(ids)', '[P] Add test/pricing.test.js with a failing quote test']],
  ['User Story 1 - Quote a basket (Priority: P1) 🎯 MVP', ['[US1] Implement quote(ids) with totalPrice in src/pricing/index.js', '[US1] Apply a 10% discount from 5 widgets in src/pricing/index.js']],
  ['Polish', ['[P] Document quotes in README.md']],
]);

const SEARCH = feature('003-search', 'Search', 'Find widgets by name', [
  ['Setup', ['Create src/search/index.js exporting search(text)']],
  ['User Story 1 - Find by name (Priority: P1) 🎯 MVP', ['[US1] Match names case-insensitively in src/search/index.js', '[P] [US1] Add test/search.test.js', '[US1] Add a `search <text>` command to src/cli.js']],
]);

const CONSTITUTION = `# Widgets Constitution

## Core Principles

### I. Small modules
Every feature lives in its own module under src/ with its own tests.

### II. Tests first
A test that fails comes before the code that makes it pass.

**Version**: 1.0.0 | **Ratified**: 2025-01-08
`;

/** The history, oldest first. Later commits change lines earlier ones wrote, so a stale diff can conflict. */
const HISTORY: DemoCommit[] = [
  {
    message: 'Start the widgets catalogue',
    date: '2025-01-06T10:00:00Z',
    files: {
      'README.md': README_V1,
      '.gitignore': 'node_modules/\n',
      'package.json': `{\n  "name": "widgets",\n  "version": "0.1.0",\n  "type": "module",\n  "private": true,\n  "scripts": {\n    "test": "node --test"\n  }\n}\n`,
      'src/widgets.js': WIDGETS_V1,
      'src/cli.js': `import { widgets } from './widgets.js';\n\nconst [command] = process.argv.slice(2);\nif (command === 'list') {\n  for (const w of widgets) console.log(\`\${w.id}\\t\${w.name}\\t\${w.price}\`);\n} else {\n  console.log('usage: widgets list');\n}\n`,
      'test/widgets.test.js': `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { findWidget } from '../src/widgets.js';\n\ntest('finds a widget by id', () => {\n  assert.equal(findWidget('w-1').name, 'Sprocket');\n});\n`,
    },
  },
  {
    message: 'Add a total price for a list of widgets',
    date: '2025-01-07T10:00:00Z',
    files: { 'src/widgets.js': WIDGETS_V2 },
  },
  {
    message: 'Set up Spec Kit with the project constitution',
    date: '2025-01-08T10:00:00Z',
    files: { '.specify/memory/constitution.md': CONSTITUTION },
  },
  {
    message: 'Specify 001-greeting: spec, plan and tasks',
    date: '2025-01-09T10:00:00Z',
    files: {
      '.specify/feature.json': `{\n  "feature_directory": "specs/001-greeting"\n}\n`,
      'specs/001-greeting/spec.md': SPEC,
      'specs/001-greeting/plan.md': PLAN,
      'specs/001-greeting/tasks.md': TASKS,
    },
  },
  {
    message: 'Specify 002-pricing and 003-search',
    date: '2025-01-09T16:00:00Z',
    files: { ...PRICING, ...SEARCH },
  },
  {
    message: 'Reword the README and name the large flange',
    date: '2025-01-10T10:00:00Z',
    files: {
      'README.md': README_V1.replace(
        'A tiny catalogue of widgets, used to try out spec-chain.',
        'A small catalogue of widgets: the demo project for spec-chain.',
      ),
      'src/widgets.js': WIDGETS_V2.replace("name: 'Flange'", "name: 'Flange (large)'"),
    },
  },
];

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Creates the demo repository unless it exists. Built in a scratch folder and renamed into place, so
 * two processes racing here end with one complete repository, never a half-written one.
 */
export async function createDemoRepository(
  gitRoot: string,
  { owner = 'sandbox', name = 'widgets' }: { owner?: string; name?: string } = {},
): Promise<DemoRepository> {
  const path = repositoryPath(gitRoot, `${owner}/${name}`);
  const result = (created: boolean): DemoRepository => ({
    repository: `${owner}/${name}`,
    path,
    defaultBranch: 'main',
    featureId: '001-greeting',
    tasksPath: 'specs/001-greeting/tasks.md',
    created,
  });
  if (await exists(join(path, 'HEAD'))) return result(false);

  await mkdir(dirname(path), { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'spec-chain-demo-'));
  const staging = `${path}.staging-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await git(['init', '-q', '-b', 'main', work]);
    for (const commit of HISTORY) {
      for (const [file, content] of Object.entries(commit.files)) {
        await mkdir(dirname(join(work, file)), { recursive: true });
        await writeFile(join(work, file), content);
      }
      await git(['add', '-A'], { cwd: work });
      await git(['commit', '-q', '-m', commit.message], { cwd: work, date: commit.date });
    }
    await git(['clone', '-q', '--bare', work, staging]);
    await git(['remote', 'remove', 'origin'], { cwd: staging });
    try {
      await rename(staging, path);
    } catch (error) {
      // Another process finished first: keep its repository.
      if (!(await exists(join(path, 'HEAD')))) throw error;
      return result(false);
    }
    return result(true);
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
  }
}
