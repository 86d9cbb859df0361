import { validateSchedule } from '../scheduler/schedule.js';
import { cronProblem } from './config.jobs.js';

// A job comes from the config file or from the API; the scheduler runs both. An expression one of
// them takes and the other refuses either stops the daemon at start or is refused for no reason.
describe('cron expressions in the config file', () => {
  const expressions = [
    '0 3 * * *', '*/15 * * * *', '30 0 3 * * *', '0 0 L * *', '0 0 * * 5#2', '0 0 15W * *', '0 0 ? * MON-FRI',
    '@daily', '@hourly', '0 0 29 2 *', '0 0 0 1 1 * 2030', '0 0 0 1 1 * *', '* * * *', '61 * * * *',
    '0 0 31 2 *', '0 25 * * *', 'not a cron', '',
  ];

  it.each(expressions)('%j is taken by the config loader exactly when the scheduler takes it', (expression) => {
    const scheduler = validateSchedule({ cron: expression, everyMs: null, timezone: 'UTC' });
    expect(cronProblem(expression, 'UTC') === null).toBe(scheduler === null);
  });
});
