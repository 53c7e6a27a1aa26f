// Every real-answer fixture (test/fixtures/pve-real) goes through Jarvis's own client — transport, envelope, zod
// schema — and the normaliser that turns it into live state, and comes out whole; the README names each one.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { snapshotStates } from '../../../deploy/snapshots.ts';
import { outcomesOfTask } from '../../../monitor/vzdump-log.ts';
import * as N from '../../../planner/scan/normalize.ts';
import { FIXTURE_DIR, fixtureFiles, loadFixture, routesOf, serveAnswers, type AnswerServer, type PveRealFixture, type VzdumpAnswer } from '../../support/pve-real.ts';

let server: AnswerServer | undefined;
afterEach(async () => {
  await server?.stub.close();
  server = undefined;
});

/** Reads the fixture through the client and normalises it; returns how many things came out. */
async function readAndNormalise(fixture: PveRealFixture): Promise<number> {
  server = await serveAnswers(routesOf(fixture));
  const pve = server.client;
  switch (fixture.call) {
    case 'listNetwork': {
      const listing = await pve.listNetwork();
      expect(listing.interfaces.length).toBe((fixture.answer as { data: unknown[] }).data.length);
      return N.bridges(listing).length;
    }
    case 'zfsPoolDetail': {
      const name = String((fixture.answer as { data: { name: string } }).data.name);
      const detail = await pve.zfsPoolDetail(name);
      const pool = N.zfsPool({ name, size: 0, alloc: 0, free: 0, health: detail.state }, detail);
      expect(pool.raidlevel).toBeDefined();
      return pool.devices.length;
    }
    case 'listSnapshots': {
      const { complete, halfMade } = snapshotStates(await pve.listSnapshots(300));
      return complete.length + halfMade.length;
    }
    case 'listDisks':
      return N.disks(await pve.listDisks()).filter((disk) => disk.byId.length > 0).length;
    case 'vzdumpTasks': {
      const tasks = await pve.listTasks({ typefilter: 'vzdump' });
      expect(tasks).toHaveLength((fixture.answer as VzdumpAnswer).tasks.data.length);
      let outcomes = 0;
      for (const task of tasks) outcomes += outcomesOfTask(task, await pve.taskLog(task.upid)).length;
      return outcomes;
    }
  }
}

describe('real-answer fixtures', () => {
  const files = fixtureFiles();

  it('are there, one call each, with their source and PVE version', () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const file of files) {
      const fixture = loadFixture(file);
      expect(['listNetwork', 'zfsPoolDetail', 'listSnapshots', 'listDisks', 'vzdumpTasks'], file).toContain(fixture.call);
      expect(fixture.source.length, file).toBeGreaterThan(20);
      expect(fixture.pveVersion, file).toBeTruthy();
      // A derived answer says how it was derived, and says so in its name.
      expect(fixture.kind === 'derived', file).toBe(file.endsWith('.derived.json'));
      if (fixture.kind === 'derived') expect(fixture.derivation?.length, file).toBeGreaterThan(40);
    }
  });

  it('are each named in the README with their source', () => {
    const readme = readFileSync(`${FIXTURE_DIR}README.md`, 'utf8');
    for (const file of files) expect(readme, file).toContain(`\`${file}\``);
  });

  it.each(fixtureFiles())('%s passes the schema and the normaliser', async (file) => {
    expect(await readAndNormalise(loadFixture(file))).toBeGreaterThan(0);
  });
});
