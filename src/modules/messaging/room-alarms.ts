/**
 * The one alarm of a ConversationRoom, shared by everything that needs the room to wake up later: the
 * outbox's retries (D1 index, pending reports) and the calls' timers (the ring timeout, a participant
 * whose sockets are all gone). Each job is a row `(job, due)` in the room's storage, so the schedule
 * survives eviction; the Durable Object's alarm is always set to the earliest due job.
 */
export class RoomAlarms {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sql: SqlStorage,
  ) {
    this.createSchema();
  }

  createSchema(): void {
    this.sql.exec('CREATE TABLE IF NOT EXISTS alarms (job TEXT PRIMARY KEY, due INTEGER NOT NULL)');
  }

  /** Runs `job` at `at` (or earlier, if it is already due sooner). */
  schedule(job: string, at: number): void {
    this.sql.exec('INSERT INTO alarms (job, due) VALUES (?, ?) ON CONFLICT(job) DO UPDATE SET due = MIN(due, excluded.due)', job, at);
    this.arm();
  }

  /** Forgets a job; the alarm, if it fires for nothing, just re-arms for what is left. */
  cancel(job: string): void {
    this.sql.exec('DELETE FROM alarms WHERE job = ?', job);
  }

  private next(): number | null {
    return this.sql.exec<{ due: number | null }>('SELECT MIN(due) AS due FROM alarms').one().due;
  }

  private arm(): void {
    const next = this.next();
    if (next !== null) void this.storage.setAlarm(next);
  }

  /**
   * The alarm fired: runs every job due by then (a forced early run, as tests make, counts as the
   * earliest job's time having come), each on its own so one failing job never stops the others, then
   * re-arms for the rest.
   */
  async run(handle: (job: string) => Promise<void>): Promise<void> {
    const earliest = this.next();
    if (earliest !== null) {
      const horizon = Math.max(Date.now(), earliest);
      const due = this.sql.exec<{ job: string }>('SELECT job FROM alarms WHERE due <= ? ORDER BY due', horizon).toArray();
      this.sql.exec('DELETE FROM alarms WHERE due <= ?', horizon);
      for (const { job } of due) {
        try {
          await handle(job);
        } catch (err) {
          console.error(JSON.stringify({ level: 'error', message: 'room alarm job failed', job, error: String(err) }));
        }
      }
    }
    this.arm();
  }
}
