// When the Flink SQL results panel gets an update: at most every period while its run changes, at once when it ends.

/** A run's changes become panel updates at a bounded rate: a statement sending thousands of rows a second redraws four times. */
export class PanelUpdates {
  private dirty = true;
  private ready = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly post: () => void,
    periodMs = 250,
  ) {
    this.timer = setInterval(() => {
      if (this.dirty) this.flush();
    }, periodMs);
  }

  /** The panel's page has loaded: it gets the run as it stands. */
  setReady(): void {
    this.ready = true;
    this.flush();
  }

  /** The run changed: the next tick posts it; the end is posted at once. */
  changed(ended: boolean): void {
    this.dirty = true;
    if (ended) this.flush();
  }

  /** Posts now (a switch of view, an end). */
  flush(): void {
    if (!this.ready) return;
    this.dirty = false;
    this.post();
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
