import type { LocalService } from './ports';

/** The local service while there is no PostgreSQL yet: healthy while the agent runs, stopped once asked to stop. */
export class AgentOnlyService implements LocalService {
  private down = false;

  healthy(): boolean {
    return !this.down;
  }

  stopped(): boolean {
    return this.down;
  }

  stop(): Promise<void> {
    this.down = true;
    return Promise.resolve();
  }

  leadershipLost(): void {
    // Nothing accepts writes yet.
  }
}
