// SIGTERM and SIGINT to the agent: an ACPI power-button press ends up here (systemd turns it into
// a shutdown that sends SIGTERM to every process; Vac presses the button and destroys the VM 30 s
// later). The handler only records the request: the supervisor stops the payload and the engine
// finishes with a 100 message, uploaded within 20 s. A second signal is ignored: the finish that is
// already under way must not be cut short.

export type StopSignal = "SIGTERM" | "SIGINT" | "SIGHUP";

export function installStopSignals(onSignal: (name: StopSignal) => void, signals: readonly StopSignal[] = ["SIGTERM", "SIGINT"]): () => void {
  const handlers = signals.map((name) => {
    const h = () => onSignal(name);
    process.on(name, h);
    return [name, h] as const;
  });
  return () => {
    for (const [name, h] of handlers) process.off(name, h);
  };
}
