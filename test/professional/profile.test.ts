import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, expectStatus } from '../helpers/client';
import { befriend, block, follow } from '../feeds/helpers';
import { getOwnProfessional, position, putProfessional } from './helpers';

const PROFILE_KEYS = ['certifications', 'education', 'headline', 'industry', 'languages', 'open_to_work', 'positions', 'skills', 'summary', 'visibility'];

const full = {
  headline: 'Analyst of engines',
  summary: 'Line one.\nLine two.',
  industry: 'Research',
  open_to_work: true,
  visibility: 'public',
  positions: [position({ title: 'Lead', started_on: '2022-03' }), position({ title: 'Engineer', started_on: '2019-06', ended_on: '2022-02' })],
  education: [{ school: 'University of London', degree: 'BSc', field: 'Mathematics', started_on: '2015-09', ended_on: '2019-06', activities: null }],
  skills: ['Mathematics', 'Algorithms', 'mathematics'],
  certifications: [{ name: 'Engine Programmer', authority: 'Babbage & Co.', issued_on: '2021-07', url: 'https://certs.example/1' }],
  languages: [{ name: 'French', proficiency: 'Full professional proficiency' }],
};

describe('Professional profile: your own', () => {
  it('should answer an empty public profile before you write one', async () => {
    const ada = await createUser();
    const body = await getOwnProfessional(ada);
    expect(Object.keys(body).sort()).toEqual(PROFILE_KEYS);
    expect(body).toEqual({ headline: null, summary: null, industry: null, open_to_work: false, positions: [], education: [], skills: [], certifications: [], languages: [], visibility: 'public' });
  });

  it('should replace the whole profile with PUT, keeping list order, and read it back', async () => {
    const ada = await createUser();
    const saved = await putProfessional(ada, full);
    expect(saved.positions.map((p: any) => p.title)).toEqual(['Lead', 'Engineer']);
    expect(saved.positions[0]).toEqual({ id: expect.stringMatching(/^[0-9A-Z]{26}$/), ...position({ title: 'Lead', started_on: '2022-03' }) });
    expect(saved.skills).toEqual(['Mathematics', 'Algorithms']);
    expect(saved.education[0]).toMatchObject({ school: 'University of London', field: 'Mathematics', activities: null });
    expect(await getOwnProfessional(ada)).toEqual(saved);

    // Entries sent back with their ids keep them; a reordered list stays in the new order.
    const [lead, engineer] = saved.positions;
    const again = await putProfessional(ada, { ...full, positions: [engineer, lead, position({ title: 'Intern', started_on: '2018-06', ended_on: '2018-09' })] });
    expect(again.positions.map((p: any) => p.id).slice(0, 2)).toEqual([engineer.id, lead.id]);
    expect(again.positions[2].id).not.toBe(lead.id);
    expect(again.positions.map((p: any) => p.title)).toEqual(['Engineer', 'Lead', 'Intern']);
  });

  it('should reset what a PUT leaves out, except visibility', async () => {
    const ada = await createUser();
    await putProfessional(ada, { ...full, visibility: 'private' });
    const saved = await putProfessional(ada, { headline: 'Only this' });
    expect(saved).toMatchObject({ headline: 'Only this', summary: null, positions: [], skills: [], open_to_work: false, visibility: 'private' });
  });

  it('should change only the fields a PATCH sends', async () => {
    const ada = await createUser();
    const before = await putProfessional(ada, full);
    const res = await call('/me/professional', { method: 'PATCH', body: { headline: 'New headline', summary: null, skills: ['Poetry'] }, token: ada.accessToken });
    const after = await expectStatus(res, 200);
    expect(after).toEqual({ ...before, headline: 'New headline', summary: null, skills: ['Poetry'] });
  });

  it('should refuse bad fields with 400 naming them, and change nothing', async () => {
    const ada = await createUser();
    const before = await putProfessional(ada, full);
    const cases: [Record<string, unknown>, string][] = [
      [{ positions: [position({ started_on: '2020-13' })] }, 'positions.0.started_on'],
      [{ positions: [position({ started_on: '2020/01' })] }, 'positions.0.started_on'],
      [{ positions: [position({ started_on: '2021-05', ended_on: '2021-04' })] }, 'positions.0.ended_on'],
      [{ education: [{ school: 'X', started_on: '2019-09', ended_on: '2018-06' }] }, 'education.0.ended_on'],
      [{ headline: 'h'.repeat(221) }, 'headline'],
      [{ headline: 'two\nlines' }, 'headline'],
      [{ positions: [position({ title: '   ' })] }, 'positions.0.title'],
      [{ positions: [position({ description: 'd'.repeat(2001) })] }, 'positions.0.description'],
      [{ skills: Array.from({ length: 501 }, (_, i) => `skill ${i}`) }, 'skills'],
      [{ certifications: [{ name: 'C', url: 'javascript:alert(1)' }] }, 'certifications.0.url'],
      [{ visibility: 'friends' }, 'visibility'],
      [{ nickname: 'Ada' }, 'nickname'],
    ];
    for (const [body, field] of cases) {
      await expectProblem(await call('/me/professional', { method: 'PATCH', body, token: ada.accessToken }), 400, field);
    }
    expect(await getOwnProfessional(ada)).toEqual(before);
  });

  it('should take a profile larger than the 64 KB JSON limit of other routes', async () => {
    const ada = await createUser();
    const positions = Array.from({ length: 60 }, (_, i) => position({ title: `Role ${i}`, description: 'd'.repeat(1500) }));
    const saved = await putProfessional(ada, { positions });
    expect(saved.positions).toHaveLength(60);
    expect(saved.positions[59].title).toBe('Role 59');
  });

  it('should need a token', async () => {
    await expectProblem(await call('/me/professional'), 401);
    await expectProblem(await call('/me/professional', { method: 'PUT', body: full }), 401);
  });
});

describe('Professional profile: as others see it', () => {
  it('should follow its visibility: public, connections (friends and followers), private', async () => {
    const [owner, friend, follower, stranger] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await befriend(owner, friend);
    await follow(follower, owner);
    const saved = await putProfessional(owner, full);
    const read = (who?: { accessToken: string }) => call(`/users/${owner.id}/professional`, { token: who?.accessToken });

    expect(await expectStatus(await read(), 200)).toEqual(saved);
    expect(await expectStatus(await call(`/users/${owner.username}/professional`, { token: stranger.accessToken }), 200)).toEqual(saved);

    await putProfessional(owner, { ...full, visibility: 'connections' });
    await expectProblem(await read(), 404);
    await expectProblem(await read(stranger), 404);
    await expectStatus(await read(friend), 200);
    await expectStatus(await read(follower), 200);
    // The owner always sees it.
    await expectStatus(await read(owner), 200);

    await putProfessional(owner, { ...full, visibility: 'private' });
    for (const who of [friend, follower, stranger]) await expectProblem(await read(who), 404);
    await expectStatus(await read(owner), 200);
  });

  it("should keep a private account's public profile to its friends and followers", async () => {
    const [owner, follower, stranger] = [await createUser(), await createUser(), await createUser()];
    await follow(follower, owner);
    await expectStatus(await call('/me', { method: 'PATCH', body: { visibility: 'private' }, token: owner.accessToken }), 200);
    await putProfessional(owner, full);
    await expectStatus(await call(`/users/${owner.id}/professional`, { token: follower.accessToken }), 200);
    await expectProblem(await call(`/users/${owner.id}/professional`, { token: stranger.accessToken }), 404);
    await expectProblem(await call(`/users/${owner.id}/professional`), 404);
  });

  it('should answer 404 across a block, either way, and for someone without a profile', async () => {
    const [owner, blocker, blocked, empty] = [await createUser(), await createUser(), await createUser(), await createUser()];
    await putProfessional(owner, full);
    await block(blocker, owner);
    await block(owner, blocked);
    await expectProblem(await call(`/users/${owner.id}/professional`, { token: blocker.accessToken }), 404);
    await expectProblem(await call(`/users/${owner.id}/professional`, { token: blocked.accessToken }), 404);
    await expectProblem(await call(`/users/${empty.id}/professional`, { token: owner.accessToken }), 404);
    await expectProblem(await call('/users/nobody_here_at_all/professional'), 404);
  });

  it('should show the headline on the public profile to whoever may see the professional profile', async () => {
    const [owner, follower, stranger] = [await createUser(), await createUser(), await createUser()];
    await follow(follower, owner);
    const profileOf = async (who?: { accessToken: string }) => expectStatus(await call(`/users/${owner.id}`, { token: who?.accessToken }), 200);
    expect((await profileOf(stranger)).headline).toBeNull();

    await putProfessional(owner, { headline: 'Analyst of engines' });
    expect((await profileOf()).headline).toBe('Analyst of engines');
    expect((await expectStatus(await call(`/users/${owner.username}`), 200)).headline).toBe('Analyst of engines');

    await putProfessional(owner, { headline: 'Analyst of engines', visibility: 'connections' });
    expect((await profileOf(stranger)).headline).toBeNull();
    expect((await profileOf()).headline).toBeNull();
    expect((await profileOf(follower)).headline).toBe('Analyst of engines');
    expect((await profileOf(owner)).headline).toBe('Analyst of engines');
    // /me is the account, not the profile: the headline lives in GET /me/professional.
    expect(await expectStatus(await call('/me', { token: owner.accessToken }), 200)).not.toHaveProperty('headline');
  });
});
