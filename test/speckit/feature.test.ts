import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { discoverFeature, isValidFeatureId, resolveFeature, SpecErrorCode } from '../../src/speckit/index.js';
import { fixture } from './fixtures.js';

describe('isValidFeatureId', () => {
  test.each(['001-celery-chain-workflow', '1234-x', '001-a1-b2', '20250101-120000-add-login', `001-${'a'.repeat(240)}`])('valid: %s', (id) => {
    expect(isValidFeatureId(id)).toBe(true);
  });
  test.each([
    '01-two-digits',
    '001',
    '001-',
    '001-Upper',
    '001_underscore',
    '001-a--b',
    '001-trailing-',
    '../001-x',
    '001-x/..',
    'specs/001-x',
    '001-x/y',
    '001-é',
    '',
    `001-${'a'.repeat(241)}`,
  ])('invalid: %s', (id) => {
    expect(isValidFeatureId(id)).toBe(false);
  });
});

describe('resolveFeature', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'speckit-feature-'));
    await mkdir(join(root, 'specs', '001-chain'), { recursive: true });
    await mkdir(join(root, 'specs', '002-empty'), { recursive: true });
    await mkdir(join(root, '.specify'), { recursive: true });
    await writeFile(join(root, 'specs', '001-chain', 'tasks.md'), fixture('template.md'));
    await writeFile(join(root, 'specs', '001-chain', 'plan.md'), '# Plan\n');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('by id: finds tasks.md and reports which of spec.md and plan.md exist', async () => {
    expect(await resolveFeature(root, '001-chain')).toEqual({
      ok: true,
      feature: {
        id: '001-chain',
        dir: join(root, 'specs', '001-chain'),
        relativeDir: 'specs/001-chain',
        tasksPath: join(root, 'specs', '001-chain', 'tasks.md'),
        relativeTasksPath: 'specs/001-chain/tasks.md',
        hasSpec: false,
        hasPlan: true,
        source: 'argument',
      },
    });
    await writeFile(join(root, 'specs', '001-chain', 'spec.md'), '# Spec\n');
    expect(await resolveFeature(root, '001-chain')).toMatchObject({ ok: true, feature: { hasSpec: true, hasPlan: true } });
  });

  test.each([
    ['feature_directory (Spec Kit)', { feature_directory: 'specs/001-chain' }],
    ['featureDir', { featureDir: 'specs/001-chain/' }],
    ['a bare id under "feature"', { feature: '001-chain' }],
    ['a nested object', { feature: { directory: 'specs/001-chain' } }],
    ['a JSON string', 'specs/001-chain'],
  ])('from .specify/feature.json: %s', async (_, json) => {
    await writeFile(join(root, '.specify', 'feature.json'), JSON.stringify(json));
    expect(await resolveFeature(root)).toMatchObject({ ok: true, feature: { id: '001-chain', relativeDir: 'specs/001-chain', source: 'feature.json' } });
  });

  test('from .specify/feature.json holding an absolute path inside the checkout', async () => {
    await writeFile(join(root, '.specify', 'feature.json'), JSON.stringify({ feature_directory: join(root, 'specs', '001-chain') }));
    expect(await resolveFeature(root)).toMatchObject({ ok: true, feature: { id: '001-chain' } });
  });

  test('errors: invalid id, unknown feature, folder or tasks.md missing, path outside the checkout', async () => {
    expect(await resolveFeature(root, '../001-chain')).toMatchObject({ ok: false, error: { code: SpecErrorCode.FEATURE_ID_INVALID, line: null } });
    expect(await resolveFeature(root)).toMatchObject({
      ok: false,
      error: { code: SpecErrorCode.FEATURE_UNKNOWN, file: '.specify/feature.json', message: expect.stringContaining('does not exist') },
    });
    await writeFile(join(root, '.specify', 'feature.json'), '{ not json');
    expect(await resolveFeature(root)).toMatchObject({ ok: false, error: { code: SpecErrorCode.FEATURE_UNKNOWN, message: expect.stringContaining('not valid JSON') } });
    await writeFile(join(root, '.specify', 'feature.json'), '{"other": 1}');
    expect(await resolveFeature(root)).toMatchObject({ ok: false, error: { code: SpecErrorCode.FEATURE_UNKNOWN } });
    await writeFile(join(root, '.specify', 'feature.json'), JSON.stringify({ feature_directory: '../elsewhere/001-chain' }));
    expect(await resolveFeature(root)).toMatchObject({ ok: false, error: { code: SpecErrorCode.FEATURE_ID_INVALID } });
    await writeFile(join(root, '.specify', 'feature.json'), JSON.stringify({ feature_directory: 'specs/not-a-feature' }));
    expect(await resolveFeature(root)).toMatchObject({ ok: false, error: { code: SpecErrorCode.FEATURE_ID_INVALID } });

    const missing = await resolveFeature(root, '003-absent');
    expect(missing).toMatchObject({ ok: false, error: { code: SpecErrorCode.FEATURE_MISSING, file: 'specs/003-absent' } });
    expect(!missing.ok && missing.error.message).toContain('Features present: 001-chain, 002-empty');
    expect(await resolveFeature(root, '002-empty')).toMatchObject({
      ok: false,
      error: { code: SpecErrorCode.FILE_MISSING, file: 'specs/002-empty/tasks.md', message: expect.stringContaining('/speckit.tasks') },
    });
  });

  test('a tasks.md that links outside the checkout is not read', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'speckit-outside-'));
    try {
      await writeFile(join(outside, 'secret.md'), '## Phase 1\n- [ ] T001 not yours\n');
      await symlink(join(outside, 'secret.md'), join(root, 'specs', '002-empty', 'tasks.md'));
      expect(await resolveFeature(root, '002-empty')).toMatchObject({ ok: false, error: { code: SpecErrorCode.FILE_UNREADABLE } });
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  test('discoverFeature: the next phase, errors named by the path inside the repository', async () => {
    const found = await discoverFeature(root, '001-chain');
    expect(found.feature?.id).toBe('001-chain');
    expect(found.discovery).toMatchObject({ status: 'PHASE', file: 'specs/001-chain/tasks.md', phase: { id: '3', line: 32 } });

    await writeFile(join(root, 'specs', '002-empty', 'tasks.md'), '## Phase 1: Setup\n\nNothing yet.\n');
    const invalid = await discoverFeature(root, '002-empty');
    expect(invalid.discovery).toMatchObject({
      status: 'INVALID',
      errors: [{ code: SpecErrorCode.NO_TASKS, file: 'specs/002-empty/tasks.md', line: 1 }],
    });
    expect((await discoverFeature(root, '009-none')).discovery).toMatchObject({ status: 'INVALID', errors: [{ code: SpecErrorCode.FEATURE_MISSING }] });
  });
});
