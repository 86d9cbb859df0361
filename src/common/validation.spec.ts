import { BadRequestException, type ArgumentMetadata } from '@nestjs/common';
import { ListJobsQuery, ListRunsQuery, PauseJobDto, TriggerJobDto } from '../jobs/jobs.dto.js';
import { createValidationPipe, KEPT_BODY_CHARS, VALIDATED_QUERIES_KEPT } from './validation.js';

const query = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'query', metatype });
const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });

/** The 400 body the pipe throws for `value`, or null when it passes. */
async function refusal(pipe: ReturnType<typeof createValidationPipe>, value: object, metadata: ArgumentMetadata): Promise<unknown> {
  try {
    await pipe.transform(value, metadata);
    return null;
  } catch (error) {
    if (!(error instanceof BadRequestException)) throw error;
    return error.getResponse();
  }
}

describe('the validation pipe on a query it has validated before', () => {
  it('answers an equal object of the query class, a new one each time', async () => {
    const pipe = createValidationPipe();
    const first = (await pipe.transform({ limit: '100', owner: 'alice' }, query(ListJobsQuery))) as ListJobsQuery;
    first.limit = 7;
    const second = (await pipe.transform({ limit: '100', owner: 'alice' }, query(ListJobsQuery))) as ListJobsQuery;
    const third = await pipe.transform({ limit: '100', owner: 'alice' }, query(ListJobsQuery));
    expect(second).toBeInstanceOf(ListJobsQuery);
    expect(second).toEqual(Object.assign(new ListJobsQuery(), { limit: 100, owner: 'alice' }));
    expect(third).toEqual(second);
    expect(third).not.toBe(second);
  });

  it('refuses a wrong query every time it comes, with the same answer', async () => {
    const pipe = createValidationPipe();
    const answers = [await refusal(pipe, { limit: '0' }, query(ListJobsQuery)), await refusal(pipe, { limit: '0' }, query(ListJobsQuery))];
    expect(answers[0]).toMatchObject({ statusCode: 400, field: 'limit' });
    expect(answers[1]).toEqual(answers[0]);
    expect(pipe.keptValues).toBe(0);
  });

  it('judges the same query afresh for another query class', async () => {
    const pipe = createValidationPipe();
    expect(await refusal(pipe, { owner: 'alice' }, query(ListJobsQuery))).toBeNull();
    expect(await refusal(pipe, { owner: 'alice' }, query(ListRunsQuery))).toMatchObject({ statusCode: 400, field: 'owner', message: 'owner is not a known field' });
  });

  it(`keeps at most ${VALIDATED_QUERIES_KEPT} queries`, async () => {
    const pipe = createValidationPipe();
    for (let i = 0; i < VALIDATED_QUERIES_KEPT + 50; i++) await pipe.transform({ owner: `user-${i}` }, query(ListJobsQuery));
    expect(pipe.keptValues).toBe(VALIDATED_QUERIES_KEPT);
    expect(await pipe.transform({ owner: 'user-0' }, query(ListJobsQuery))).toEqual(Object.assign(new ListJobsQuery(), { owner: 'user-0' }));
  });
});

describe('the validation pipe on a body it has validated before', () => {
  it('keeps a small body of primitives: an equal object of the body class, a new one each time', async () => {
    const pipe = createValidationPipe();
    const first = (await pipe.transform({}, body(TriggerJobDto))) as TriggerJobDto;
    first.params = { changed: true };
    const second = await pipe.transform({}, body(TriggerJobDto));
    const pause = await pipe.transform({ note: 'disk full' }, body(PauseJobDto));
    expect(pipe.keptValues).toBe(2);
    expect(second).toBeInstanceOf(TriggerJobDto);
    expect(second).toEqual(new TriggerJobDto());
    expect(second).not.toBe(first);
    expect(await pipe.transform({ note: 'disk full' }, body(PauseJobDto))).toEqual(pause);
  });

  it('does not keep a body holding an object, or a long one', async () => {
    const pipe = createValidationPipe();
    const withParams = (await pipe.transform({ params: { size: 1 } }, body(TriggerJobDto))) as TriggerJobDto;
    expect(withParams.params).toEqual({ size: 1 });
    await pipe.transform({ note: 'x'.repeat(KEPT_BODY_CHARS) }, body(PauseJobDto));
    expect(pipe.keptValues).toBe(0);
  });

  it('refuses a wrong body every time it comes, with the same answer', async () => {
    const pipe = createValidationPipe();
    const answers = [await refusal(pipe, { note: 5 }, body(PauseJobDto)), await refusal(pipe, { note: 5 }, body(PauseJobDto))];
    expect(answers[0]).toMatchObject({ statusCode: 400, field: 'note' });
    expect(answers[1]).toEqual(answers[0]);
    expect(await refusal(pipe, { unknown: true }, body(TriggerJobDto))).toMatchObject({ statusCode: 400, message: 'unknown is not a known field' });
    expect(await refusal(pipe, { unknown: true }, body(TriggerJobDto))).toMatchObject({ statusCode: 400, message: 'unknown is not a known field' });
    expect(pipe.keptValues).toBe(0);
  });
});
