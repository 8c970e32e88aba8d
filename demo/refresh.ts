// One redraw job at a time, for the page's requests to the worker that redraw a panel from
// the current state (the feature maps: digit + "show gradients"). A request made while the
// job runs is not dropped when it is forced (a user action: another digit, the gradients
// toggle): the job runs once more after the current run, reading the state as it is then;
// several such requests coalesce into that one run. Unforced requests (the periodic refresh
// while training) are dropped while busy. Dropping forced requests is what once left the
// gradient view blank: the toggle's request was lost while another inspection was in flight.

export class Refresh {
  private running = false;
  private again = false;

  /** `job` reports its own errors: one that throws ends the run (a queued rerun included). */
  constructor(private readonly job: () => Promise<void>) {}

  get busy(): boolean {
    return this.running;
  }

  /** Runs the job now, or (forced, while busy) once more after the current run. */
  async request(force: boolean): Promise<void> {
    if (this.running) {
      if (force) this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.job();
      } while (this.again);
    } finally {
      this.running = false;
      this.again = false;
    }
  }
}
